#include "lab/onboard_lab.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>

#include "common/temp_dir.h"
#include "http/https_server.h"
#include "masa/maker_directory.h"
#include "masa/masa_http.h"
#include "pledge/https_connector.h"
#include "registrar/https_masa_client.h"
#include "registrar/registrar_http.h"
#include "registrar/site_directory.h"

namespace concierge::lab {
namespace {

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  auto index = static_cast<size_t>(std::lround(p * static_cast<double>(values.size() - 1)));
  return values[std::min(index, values.size() - 1)];
}

double PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace

Json OnboardReport::ToJson() const {
  return Json{{"devices", devices},
              {"enrolled", enrolled},
              {"failed", failed},
              {"seconds", seconds},
              {"enrollments_per_s", enrollments_per_s},
              {"crypto_bound_per_s", crypto_bound_per_s},
              {"ratio", ratio},
              {"latency_p50_ms", latency_p50_ms},
              {"latency_p99_ms", latency_p99_ms},
              {"peak_rss_mb", peak_rss_mb},
              {"cores", cores},
              {"p256_sign_per_s", rates.sign_per_s},
              {"p256_verify_per_s", rates.verify_per_s},
              {"p256_ecdh_per_s", rates.ecdh_per_s},
              {"first_error", first_error}};
}

std::string OnboardReport::ToText() const {
  char buffer[1024];
  (void)std::snprintf(
      buffer, sizeof(buffer),
      "devices              %d\n"
      "enrolled             %d\n"
      "failed               %d\n"
      "seconds              %.3f\n"
      "enrollments_per_s    %.1f\n"
      "crypto_bound_per_s   %.1f   (%u cores; P-256 sign %.0f/s, verify %.0f/s, "
      "ECDH %.0f/s per core)\n"
      "ratio                %.3f\n"
      "latency p50 / p99    %.1f ms / %.1f ms\n"
      "peak RSS             %.1f MB (whole lab process: MASA, registrar, pledges)\n",
      devices, enrolled, failed, seconds, enrollments_per_s, crypto_bound_per_s, cores,
      rates.sign_per_s, rates.verify_per_s, rates.ecdh_per_s, ratio, latency_p50_ms, latency_p99_ms,
      peak_rss_mb);
  std::string text = buffer;
  if (!first_error.empty()) {
    text += "first error          " + first_error + "\n";
  }
  return text;
}

Result<OnboardReport> RunOnboardLab(const OnboardOptions& options) {
  if (options.via != "https") {
    return MakeError(ErrorCode::kInvalidArgument, "--via " + options.via + " is not available yet");
  }
  if (options.devices < 1 || options.concurrency < 1) {
    return MakeError(ErrorCode::kInvalidArgument, "--devices and --concurrency must be positive");
  }
  SystemClock clock;
  CryptoRandom random;
  TempDir lab("concierge-lab");
  if (lab.path().empty()) {
    return MakeError(ErrorCode::kUnavailable, "cannot make a temporary directory for the lab");
  }
  OnboardReport report;
  report.devices = options.devices;
  report.cores = std::max(1u, std::thread::hardware_concurrency());
  ASSIGN_OR_RETURN(report.rates, MeasureP256Rates(std::chrono::milliseconds(300)));
  report.crypto_bound_per_s =
      CryptoBoundPerSecond(report.rates, EnrollmentCryptoCost{}, report.cores);

  // The maker and its MASA.
  ASSIGN_OR_RETURN(auto maker, masa::InitMakerDirectory(lab.path() / "maker", "Lab Maker",
                                                        "127.0.0.1:0", clock, random));
  ASSIGN_OR_RETURN(auto maker_store, masa::MakerStore::Open(maker.DatabasePath(), clock));
  masa::MasaService masa_service(*maker_store, clock, maker.masa);
  ASSIGN_OR_RETURN(auto masa_ctx, http::MakeServerContext(maker.tls, true));
  http::ServerOptions masa_options;
  masa_options.workers = options.masa_workers;
  ASSIGN_OR_RETURN(auto masa_server,
                   http::HttpsServer::Start(
                       {"127.0.0.1", 0}, std::move(masa_ctx),
                       [&](const http::HttpRequest& request, const http::ConnectionInfo& info) {
                         return masa::HandleMasaRequest(masa_service, request, info);
                       },
                       masa_options));
  maker.masa_url = "127.0.0.1:" + std::to_string(masa_server->port());

  // The site and its registrar.
  ASSIGN_OR_RETURN(
      auto site, registrar::InitSiteDirectory(lab.path() / "site", "Lab Site", "", clock, random));
  ASSIGN_OR_RETURN(auto site_store, registrar::SiteStore::Open(site.DatabasePath(), clock));
  RETURN_IF_ERROR(
      site_store->AddTrustedMaker("Lab Maker", maker.masa.maker_ca, registrar::Approval::kAuto));
  registrar::HttpsMasaClient masa_client(
      site.Tls(), [&maker] { return std::vector<crypto::Certificate>{maker.masa.maker_ca}; });
  registrar::RegistrarService registrar_service(*site_store, masa_client, clock, random,
                                                site.identity);
  ASSIGN_OR_RETURN(auto registrar_ctx, http::MakeServerContext(site.Tls(), true));
  http::ServerOptions registrar_options;
  registrar_options.workers = options.registrar_workers;
  ASSIGN_OR_RETURN(auto registrar_server,
                   http::HttpsServer::Start(
                       {"127.0.0.1", 0}, std::move(registrar_ctx),
                       [&](const http::HttpRequest& request, const http::ConnectionInfo& info) {
                         return registrar::HandleRegistrarRequest(registrar_service, request, info);
                       },
                       registrar_options));

  // The devices, minted before the clock starts.
  std::vector<pledge::PledgeIdentity> identities;
  identities.reserve(static_cast<size_t>(options.devices));
  for (int i = 0; i < options.devices; ++i) {
    char serial[32];
    (void)std::snprintf(serial, sizeof(serial), "LAB-%06d", i + 1);
    ASSIGN_OR_RETURN(auto minted, masa::MintIdevid(maker, *maker_store, {serial, "", std::nullopt},
                                                   clock, random));
    identities.push_back({minted.idevid, minted.key, {}, {maker.masa.maker_ca}});
  }

  pledge::HttpsConnector connector({"127.0.0.1", registrar_server->port()});
  std::atomic<int> next{0};
  std::atomic<int> done{0};
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::string first_error;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pledges;
  pledges.reserve(static_cast<size_t>(options.concurrency));
  for (int t = 0; t < std::min(options.concurrency, options.devices); ++t) {
    pledges.emplace_back([&] {
      CryptoRandom thread_random;
      while (true) {
        int index = next.fetch_add(1);
        if (index >= options.devices) {
          return;
        }
        auto begun = std::chrono::steady_clock::now();
        pledge::Pledge device(identities[static_cast<size_t>(index)], connector, clock,
                              thread_random);
        auto result = device.Enroll();
        double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begun)
                .count();
        {
          std::lock_guard lock(mutex);
          if (result) {
            latencies_ms.push_back(ms);
          } else if (first_error.empty()) {
            first_error = result.error().message();
          }
        }
        int finished = done.fetch_add(1) + 1;
        if (options.progress) {
          options.progress(finished, options.devices);
        }
      }
    });
  }
  for (auto& thread : pledges) {
    thread.join();
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  registrar_server->Stop();
  masa_server->Stop();

  report.enrolled = static_cast<int>(latencies_ms.size());
  report.failed = report.devices - report.enrolled;
  report.first_error = first_error;
  report.enrollments_per_s = report.enrolled / report.seconds;
  report.ratio = report.enrollments_per_s / report.crypto_bound_per_s;
  report.latency_p50_ms = Percentile(latencies_ms, 0.50);
  report.latency_p99_ms = Percentile(latencies_ms, 0.99);
  report.peak_rss_mb = PeakRssMb();
  return report;
}

}  // namespace concierge::lab
