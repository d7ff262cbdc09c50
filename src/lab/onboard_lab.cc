#include "lab/onboard_lab.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>

#include "common/temp_dir.h"
#include "lab/lab_world.h"
#include "lab/policy_lab.h"
#include "loop/event_loop.h"
#include "pledge/https_connector.h"
#include "pledge/pledge.h"

namespace concierge::lab {

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

  ASSIGN_OR_RETURN(auto maker, StartLabMaker(lab.path() / "maker", "Lab Maker",
                                             options.masa_workers, clock, random));
  ASSIGN_OR_RETURN(auto site, StartLabSite(lab.path() / "site", "Lab Site", *maker,
                                           options.registrar_workers, clock, random));

  // The devices, minted before the clock starts.
  std::vector<pledge::PledgeIdentity> identities;
  identities.reserve(static_cast<size_t>(options.devices));
  for (int i = 0; i < options.devices; ++i) {
    char serial[32];
    (void)std::snprintf(serial, sizeof(serial), "LAB-%06d", i + 1);
    ASSIGN_OR_RETURN(auto minted, masa::MintIdevid(maker->directory, *maker->store,
                                                   {serial, "", std::nullopt}, clock, random));
    identities.push_back({minted.idevid, minted.key, {}, {maker->directory.masa.maker_ca}});
  }

  pledge::HttpsConnector connector({"127.0.0.1", site->server->port()});
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
      loop::EventLoop events;  // each pledge thread drives its own loop
      while (true) {
        int index = next.fetch_add(1);
        if (index >= options.devices) {
          return;
        }
        auto begun = std::chrono::steady_clock::now();
        pledge::Pledge device(identities[static_cast<size_t>(index)], connector, clock, events,
                              thread_random);
        auto result = device.EnrollAndWait();
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
  site->server->Stop();
  maker->server->Stop();

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
