#include "lab/transfer_lab.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "common/temp_dir.h"
#include "lab/lab_world.h"
#include "loop/event_loop.h"
#include "pledge/https_connector.h"
#include "pledge/move.h"

namespace concierge::lab {
namespace {

using Steady = std::chrono::steady_clock;

double Seconds(Steady::time_point from, Steady::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

struct Device {
  pledge::PledgeIdentity identity;
  std::optional<pledge::DomainCredentials> credentials;
  std::optional<pledge::DomainCredentials> old_credentials;
};

// ForEach runs work(index) for every device with `concurrency` threads; work returns an error
// message or "".
template <typename Work>
std::vector<std::string> ForEach(int count, int concurrency, Work work,
                                 const std::function<void(int)>& progress) {
  std::vector<std::string> errors(static_cast<size_t>(count));
  std::atomic<int> next{0};
  std::atomic<int> done{0};
  int workers = std::min(concurrency, count);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(std::max(workers, 0)));
  for (int t = 0; t < workers; ++t) {
    threads.emplace_back([&] {
      while (true) {
        int index = next.fetch_add(1);
        if (index >= count) {
          return;
        }
        errors[static_cast<size_t>(index)] = work(index);
        int finished = done.fetch_add(1) + 1;
        if (progress) {
          progress(finished);
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  return errors;
}

}  // namespace

Json TransferReport::ToJson() const {
  return Json{{"devices", devices},
              {"moved", moved},
              {"failed", failed},
              {"seconds", seconds},
              {"devices_per_s", devices_per_s},
              {"longest_gap_ms", longest_gap_ms},
              {"export_seconds", export_seconds},
              {"import_seconds", import_seconds},
              {"move_seconds", move_seconds},
              {"move_p50_ms", move_p50_ms},
              {"move_p99_ms", move_p99_ms},
              {"onboard_seconds", onboard_seconds},
              {"old_credentials_refused", old_credentials_refused},
              {"new_credentials_working", new_credentials_working},
              {"old_site_crl_entries", old_site_crl_entries},
              {"first_error", first_error}};
}

std::string TransferReport::ToText() const {
  char buffer[1024];
  (void)std::snprintf(buffer, sizeof(buffer),
                      "devices                  %d\n"
                      "moved                    %d\n"
                      "failed                   %d\n"
                      "seconds                  %.3f   (export %.3f + import %.3f + moves %.3f)\n"
                      "devices_per_s            %.1f\n"
                      "longest credential gap   %.1f ms\n"
                      "move p50 / p99           %.1f ms / %.1f ms\n"
                      "afterwards               %d old LDevIDs refused by the old site, "
                      "%d new ones accepted by the new site, %d entries in the old CRL\n"
                      "(onboarding at the old site first took %.3f s)\n",
                      devices, moved, failed, seconds, export_seconds, import_seconds, move_seconds,
                      devices_per_s, longest_gap_ms, move_p50_ms, move_p99_ms,
                      old_credentials_refused, new_credentials_working, old_site_crl_entries,
                      onboard_seconds);
  std::string text = buffer;
  if (!first_error.empty()) {
    text += "first error              " + first_error + "\n";
  }
  return text;
}

Result<TransferReport> RunTransferLab(const TransferOptions& options) {
  if (options.devices < 1 || options.concurrency < 1) {
    return MakeError(ErrorCode::kInvalidArgument, "--devices and --concurrency must be positive");
  }
  SystemClock clock;
  CryptoRandom random;
  TempDir lab("concierge-transfer-lab");
  if (lab.path().empty()) {
    return MakeError(ErrorCode::kUnavailable, "cannot make a temporary directory for the lab");
  }
  ASSIGN_OR_RETURN(
      auto maker, StartLabMaker(lab.path() / "maker", "Lab Maker", options.workers, clock, random));
  ASSIGN_OR_RETURN(auto old_site, StartLabSite(lab.path() / "old", "Old Owner", *maker,
                                               options.workers, clock, random));
  ASSIGN_OR_RETURN(auto new_site, StartLabSite(lab.path() / "new", "New Owner", *maker,
                                               options.workers, clock, random));
  pledge::HttpsConnector old_registrar({"127.0.0.1", old_site->server->port()});
  pledge::HttpsConnector new_registrar({"127.0.0.1", new_site->server->port()});
  auto progress = [&options](std::string_view phase, int total) -> std::function<void(int)> {
    if (!options.progress) {
      return {};
    }
    return [&options, phase, total](int done) { options.progress(phase, done, total); };
  };

  std::vector<Device> devices;
  devices.reserve(static_cast<size_t>(options.devices));
  for (int i = 0; i < options.devices; ++i) {
    char serial[32];
    (void)std::snprintf(serial, sizeof(serial), "MOVE-%06d", i + 1);
    ASSIGN_OR_RETURN(auto minted, masa::MintIdevid(maker->directory, *maker->store,
                                                   {serial, "", std::nullopt}, clock, random));
    devices.push_back({{minted.idevid,
                        minted.key,
                        {},
                        {maker->directory.masa.maker_ca, maker->directory.masa.signer}},
                       {},
                       {}});
  }

  TransferReport report;
  report.devices = options.devices;
  auto onboard_start = Steady::now();
  auto onboarded = ForEach(
      options.devices, options.concurrency,
      [&](int index) -> std::string {
        Device& device = devices[static_cast<size_t>(index)];
        CryptoRandom thread_random;
        loop::EventLoop events;
        pledge::Pledge pledge(device.identity, old_registrar, clock, events, thread_random);
        auto result = pledge.EnrollAndWait();
        if (!result) {
          return result.error().message();
        }
        device.credentials =
            pledge::DomainCredentials{result->ldevid, result->ldevid_key, result->domain_anchors,
                                      old_site->Url(), result->voucher_cms};
        return "";
      },
      progress("onboard", options.devices));
  report.onboard_seconds = Seconds(onboard_start, Steady::now());
  for (const std::string& error : onboarded) {
    if (!error.empty()) {
      return MakeError(ErrorCode::kInternal, "onboarding at the old site failed: " + error);
    }
  }

  // The transfer: export at the old site, the bundle as bytes, import at the new site.
  auto start = Steady::now();
  ASSIGN_OR_RETURN(Bytes new_owner,
                   new_site->site->directory().identity.domain_ca_key.PublicKeyDer());
  ASSIGN_OR_RETURN(auto bundle, old_site->site->ownership().Export(
                                    {new_owner, "New Owner", new_site->Url(), {}}));
  std::string bundle_text = ownership::EncodeBundle(bundle);
  auto exported = Steady::now();
  ASSIGN_OR_RETURN(auto received, ownership::DecodeBundle(bundle_text));
  ASSIGN_OR_RETURN(auto imported, new_site->site->ownership().Import(received));
  auto import_done = Steady::now();
  report.export_seconds = Seconds(start, exported);
  report.import_seconds = Seconds(exported, import_done);
  if (imported.devices != options.devices) {
    return MakeError(ErrorCode::kInternal,
                     "the import recorded " + std::to_string(imported.devices) + " devices");
  }

  std::mutex mutex;
  std::vector<double> move_ms;
  double longest_gap_ms = 0;
  auto moves = ForEach(
      options.devices, options.concurrency,
      [&](int index) -> std::string {
        Device& device = devices[static_cast<size_t>(index)];
        CryptoRandom thread_random;
        loop::EventLoop events;
        auto begun = Steady::now();
        auto instruction = pledge::CheckIn(*device.credentials, old_registrar, events);
        if (!instruction || !*instruction) {
          return instruction ? "no move instruction" : instruction.error().message();
        }
        auto moved = pledge::MoveToNewOwner(device.identity, **instruction, new_registrar, clock,
                                            events, thread_random);
        if (!moved) {
          return moved.error().message();  // the device keeps its old credentials
        }
        // As `device check-in` does: the proven new credentials are stored, then the old site
        // is told. From the moment it is told it may refuse the old ones.
        auto new_accepted = Steady::now();
        device.old_credentials = std::move(device.credentials);
        device.credentials = std::move(*moved);
        auto old_may_be_refused = Steady::now();
        auto confirmed = pledge::ConfirmMove(*device.old_credentials, device.credentials->ldevid,
                                             old_registrar, events);
        auto done = Steady::now();
        double gap_ms = std::max(
            0.0,
            std::chrono::duration<double, std::milli>(new_accepted - old_may_be_refused).count());
        std::lock_guard lock(mutex);
        move_ms.push_back(std::chrono::duration<double, std::milli>(done - begun).count());
        longest_gap_ms = std::max(longest_gap_ms, gap_ms);
        return confirmed ? "" : "old site not told: " + confirmed.error().message();
      },
      progress("move", options.devices));
  auto end = Steady::now();
  report.move_seconds = Seconds(import_done, end);
  report.seconds = Seconds(start, end);
  for (const std::string& error : moves) {
    if (error.empty()) {
      ++report.moved;
    } else if (report.first_error.empty()) {
      report.first_error = error;
    }
  }
  report.failed = report.devices - report.moved;
  report.devices_per_s = report.moved / report.seconds;
  report.longest_gap_ms = longest_gap_ms;
  report.move_p50_ms = Percentile(move_ms, 0.50);
  report.move_p99_ms = Percentile(move_ms, 0.99);

  // Afterwards, over the same sockets: the old site refuses every old LDevID, the new site
  // accepts every new one.
  auto checks = ForEach(
      options.devices, options.concurrency,
      [&](int index) -> std::string {
        const Device& device = devices[static_cast<size_t>(index)];
        loop::EventLoop events;
        bool old_refused =
            !device.old_credentials ||
            !pledge::CheckIn(*device.old_credentials, old_registrar, events).has_value();
        bool new_works = pledge::CheckIn(*device.credentials, new_registrar, events).has_value();
        std::lock_guard lock(mutex);
        report.old_credentials_refused += old_refused && device.old_credentials ? 1 : 0;
        report.new_credentials_working += new_works && device.old_credentials ? 1 : 0;
        return "";
      },
      {});
  ASSIGN_OR_RETURN(auto revoked, old_site->site->store().ListRevocations());
  report.old_site_crl_entries = static_cast<int>(revoked.size());
  new_site->server->Stop();
  old_site->server->Stop();
  maker->server->Stop();
  return report;
}

}  // namespace concierge::lab
