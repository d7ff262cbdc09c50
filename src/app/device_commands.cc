#include <chrono>
#include <memory>
#include <thread>

#include "app/cli.h"
#include "pledge/device_directory.h"
#include "pledge/https_connector.h"

namespace concierge::app {
namespace {

struct DeviceArgs {
  std::string identity;
  std::string registrar;
  int retry_for = 0;
};

Status Enroll(const DeviceArgs& args, const Output& output) {
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(auto identity, pledge::LoadDeviceDirectory(args.identity));
  ASSIGN_OR_RETURN(http::Url url, http::ParseHttpsUrl(args.registrar));
  pledge::HttpsConnector connector({url.host, url.port});
  pledge::PledgeOptions options;
  options.sleep = [](std::chrono::seconds s) { std::this_thread::sleep_for(s); };
  pledge::Pledge device(identity, connector, clock, random, options);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(args.retry_for);
  auto started = std::chrono::steady_clock::now();
  int attempts = 0;
  while (true) {
    ++attempts;
    auto result = device.Enroll();
    if (result) {
      RETURN_IF_ERROR(pledge::WriteEnrollment(args.identity, *result));
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      output.Print(Json{{"serial", identity.idevid.SubjectSerialNumber()},
                        {"ldevid_serial", result->ldevid.SerialHex()},
                        {"ldevid_subject", result->ldevid.SubjectText()},
                        {"domain", result->ldevid.IssuerText()},
                        {"attempts", attempts},
                        {"seconds", seconds}},
                   "enrolled " + identity.idevid.SubjectSerialNumber() + ": LDevID " +
                       result->ldevid.SerialHex() + " from \"" + result->ldevid.IssuerText() +
                       "\"");
      return OkStatus();
    }
    // Only transport failures are worth retrying; a refusal will be refused again.
    bool transient = result.error().code() == ErrorCode::kUnavailable ||
                     result.error().code() == ErrorCode::kTimeout;
    if (!transient || std::chrono::steady_clock::now() >= deadline) {
      return std::unexpected(result.error());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

void AddDeviceCommands(CLI::App& app, Action& action, Output& output) {
  auto args = std::make_shared<DeviceArgs>();
  CLI::App* device = app.add_subcommand("device", "The device side (a pledge)");
  device->require_subcommand(1);
  CLI::App* enroll = device->add_subcommand("enroll", "Onboard with BRSKI: voucher, then LDevID");
  enroll->add_option("--identity", args->identity, "Device directory from `maker mint`")
      ->required();
  enroll->add_option("--registrar", args->registrar, "Registrar URL, https://HOST:PORT")
      ->required();
  enroll->add_option("--retry-for", args->retry_for,
                     "Keep retrying transport failures for this many seconds");
  enroll->add_flag("--json", output.json, "Print JSON");
  enroll->callback(
      [&action, &output, args] { action = [&output, args] { return Enroll(*args, output); }; });
}

}  // namespace concierge::app
