#include <chrono>
#include <iostream>
#include <memory>

#include "app/cli.h"
#include "coap/discovery_client.h"
#include "dnssd/browser.h"
#include "dnssd/mdns_message.h"
#include "loop/event_loop.h"
#include "pledge/coaps_connector.h"
#include "pledge/device_directory.h"
#include "pledge/https_connector.h"

namespace concierge::app {
namespace {

struct DeviceArgs {
  std::string identity;
  std::string code;
  std::string registrar;
  int retry_for = 0;
};

// RegistrarCandidates are where to enroll: the registrar URL given or, for coap://HOST[:PORT],
// every join proxy or registrar that discovery there offers (`brski-jp`), in its order. The
// answer's own address is the one to use when a link names none (draft-ietf-anima-constrained-
// join-proxy-20 §"Pledge discovery of Join Proxy").
Result<std::vector<std::string>> RegistrarCandidates(const std::string& registrar) {
  if (registrar.starts_with("dns-sd:")) {
    std::string interface = registrar.substr(7);
    ASSIGN_OR_RETURN(auto found,
                     dnssd::Browse(dnssd::kJoinProxyService, interface, std::chrono::seconds(2)));
    std::vector<std::string> candidates;
    for (const dnssd::Found& one : found) {
      candidates.push_back("coaps://[" + one.address + "]:" + std::to_string(one.port));
    }
    if (candidates.empty()) {
      return MakeError(ErrorCode::kNotFound,
                       "no join proxy or registrar announced "
                       "_brski-proxy._udp on " +
                           interface + " (DNS-SD) within 2 s");
    }
    return candidates;
  }
  if (!registrar.starts_with("coap://")) {
    return std::vector<std::string>{registrar};
  }
  ASSIGN_OR_RETURN_CTX(HostPort where, coap::ParseCoapUrl(registrar), "--registrar");
  ASSIGN_OR_RETURN(auto answers, coap::Discover(where, "brski-jp=*", std::chrono::seconds(2)));
  std::vector<std::string> candidates;
  for (const coap::DiscoveryAnswer& answer : answers) {
    for (const coap::Link& link : answer.links) {
      auto port = link.Attribute("brski-jp");
      if (port && link.target.empty() && !port->empty()) {
        candidates.push_back("coaps://" + answer.responder + ":" + *port);
      }
    }
  }
  if (candidates.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "discovery at " + registrar + " offered no join proxy or registrar");
  }
  return candidates;
}

struct Enrolled {
  pledge::EnrollResult result;
  int attempts = 0;
};

// EnrollAt enrolls through one registrar URL, retrying transport failures for retry_for.
Result<Enrolled> EnrollAt(const pledge::PledgeIdentity& identity, const std::string& registrar,
                          int retry_for) {
  SystemClock clock;
  CryptoRandom random;
  // coaps:// is constrained onboarding (cBRSKI over DTLS); https:// is RFC 8995's.
  std::unique_ptr<pledge::Connector> connector;
  if (registrar.starts_with("coaps://")) {
    ASSIGN_OR_RETURN(HostPort where, pledge::ParseCoapsUrl(registrar));
    connector = std::make_unique<pledge::CoapsConnector>(where);
  } else {
    ASSIGN_OR_RETURN(Url url, ParseHttpsUrl(registrar));
    connector = std::make_unique<pledge::HttpsConnector>(HostPort{url.host, url.port});
  }
  loop::EventLoop events;
  pledge::Pledge device(identity, *connector, clock, events, random);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(retry_for);
  int attempts = 0;
  while (true) {
    ++attempts;
    auto result = device.EnrollAndWait();
    if (result) {
      return Enrolled{std::move(*result), attempts};
    }
    // Only transport failures are worth retrying; a refusal will be refused again.
    bool transient = result.error().code() == ErrorCode::kUnavailable ||
                     result.error().code() == ErrorCode::kTimeout;
    if (!transient || std::chrono::steady_clock::now() >= deadline) {
      return std::unexpected(result.error());
    }
    bool resumed = false;
    events.After(std::chrono::milliseconds(200), [&resumed] { resumed = true; });
    events.RunUntil([&resumed] { return resumed; });
  }
}

Status Enroll(const DeviceArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto identity, pledge::LoadDeviceDirectory(args.identity));
  ASSIGN_OR_RETURN(auto candidates, RegistrarCandidates(args.registrar));
  auto started = std::chrono::steady_clock::now();
  std::optional<Error> last;
  for (const std::string& registrar : candidates) {
    auto enrolled = EnrollAt(identity, registrar, args.retry_for);
    if (!enrolled) {
      // Another proxy may lead to a registrar that takes this device: try the next.
      if (candidates.size() > 1) {
        std::cerr << "concierge: " << registrar << ": " << enrolled.error().message()
                  << (registrar == candidates.back() ? "\n" : "; trying the next\n");
      }
      last = enrolled.error();
      continue;
    }
    const pledge::EnrollResult& result = enrolled->result;
    RETURN_IF_ERROR(pledge::WriteDomainCredentials(
        args.identity,
        {result.ldevid, result.ldevid_key, result.domain_anchors, registrar, result.voucher_cms}));
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    output.Print(Json{{"serial", identity.idevid.SubjectSerialNumber()},
                      {"ldevid_serial", result.ldevid.SerialHex()},
                      {"ldevid_subject", result.ldevid.SubjectText()},
                      {"domain", result.ldevid.IssuerText()},
                      {"registrar", registrar},
                      {"attempts", enrolled->attempts},
                      {"seconds", seconds}},
                 "enrolled " + identity.idevid.SubjectSerialNumber() + ": LDevID " +
                     result.ldevid.SerialHex() + " from \"" + result.ldevid.IssuerText() + "\"");
    return OkStatus();
  }
  return std::unexpected(*last);
}

Result<std::unique_ptr<pledge::HttpsConnector>> ConnectorFor(const std::string& registrar_url) {
  ASSIGN_OR_RETURN_CTX(Url url, ParseHttpsUrl(registrar_url), "registrar URL");
  return std::make_unique<pledge::HttpsConnector>(HostPort{url.host, url.port});
}

// CheckIn asks the device's registrar what to do and, told to move, moves: the new
// credentials are proved and stored before the old domain is told and the old ones dropped.
Status CheckIn(const DeviceArgs& args, const Output& output) {
  SystemClock clock;
  loop::EventLoop events;
  CryptoRandom random;
  ASSIGN_OR_RETURN(auto identity, pledge::LoadDeviceDirectory(args.identity));
  ASSIGN_OR_RETURN(auto current, pledge::LoadDomainCredentials(args.identity));
  std::string serial = identity.idevid.SubjectSerialNumber();
  ASSIGN_OR_RETURN(auto old_registrar, ConnectorFor(current.registrar_url));
  ASSIGN_OR_RETURN(auto instruction, pledge::CheckIn(current, *old_registrar, events));
  if (!instruction) {
    output.Print(Json{{"serial", serial}, {"registrar", current.registrar_url}, {"moved", false}},
                 serial + ": nothing to do (registrar " + current.registrar_url + ")");
    return OkStatus();
  }
  if (instruction->action == ownership::MoveInstruction::Action::kReset) {
    RETURN_IF_ERROR_CTX(pledge::ConfirmReset(current, *old_registrar, events),
                        "confirming the reset (credentials kept)");
    RETURN_IF_ERROR(pledge::ForgetDomain(args.identity));
    output.Print(Json{{"serial", serial}, {"moved", false}, {"reset", true}},
                 serial + ": decommissioned by " + current.registrar_url +
                     "; domain credentials removed, back to the IDevID");
    return OkStatus();
  }
  ASSIGN_OR_RETURN(auto new_registrar, ConnectorFor(instruction->registrar_url));
  ASSIGN_OR_RETURN_CTX(
      auto moved,
      pledge::MoveToNewOwner(identity, *instruction, *new_registrar, clock, events, random),
      "moving to " + instruction->registrar_url + " (old credentials kept)");
  RETURN_IF_ERROR_CTX(pledge::WriteDomainCredentials(args.identity, moved),
                      "storing the new credentials (old credentials kept)");
  auto confirmed = pledge::ConfirmMove(current, moved.ldevid, *old_registrar, events);
  if (!confirmed) {
    std::cerr << "warning: the old registrar was not told of the move: "
              << confirmed.error().message() << "\n";
  }
  output.Print(Json{{"serial", serial},
                    {"moved", true},
                    {"registrar", moved.registrar_url},
                    {"ldevid_serial", moved.ldevid.SerialHex()},
                    {"domain", moved.ldevid.IssuerText()},
                    {"old_domain_told", confirmed.has_value()}},
               serial + ": moved to " + moved.registrar_url + ", LDevID " +
                   moved.ldevid.SerialHex() + " from \"" + moved.ldevid.IssuerText() + "\"");
  return OkStatus();
}

// Reset is the physical-presence reset: the code from the device's label returns it to its
// IDevID, for fresh onboarding by whoever holds it now.
Status Reset(const DeviceArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto identity, pledge::LoadDeviceDirectory(args.identity));
  RETURN_IF_ERROR(pledge::ResetWithCode(args.identity, args.code));
  std::string serial = identity.idevid.SubjectSerialNumber();
  output.Print(
      Json{{"serial", serial}, {"reset", true}},
      serial + ": reset by its label code; domain credentials removed, back to the IDevID");
  return OkStatus();
}

}  // namespace

void AddDeviceCommands(CLI::App& app, Action& action, Output& output) {
  auto args = std::make_shared<DeviceArgs>();
  CLI::App* device = app.add_subcommand("device", "The device side (a pledge)");
  device->require_subcommand(1);
  CLI::App* enroll = device->add_subcommand("enroll", "Onboard with BRSKI: voucher, then LDevID");
  enroll->add_option("--identity", args->identity, "Device directory from `maker mint`")
      ->required();
  enroll
      ->add_option("--registrar", args->registrar,
                   "Registrar URL: https://HOST:PORT, or coaps://HOST[:PORT] for constrained "
                   "onboarding (cBRSKI over DTLS), or coap://HOST[:PORT] to discover join "
                   "proxies or registrars there and try each in turn (docs/joinproxy.md), or "
                   "dns-sd:IFACE to find them by DNS-SD on that link (_brski-proxy._udp)")
      ->required();
  enroll->add_option("--retry-for", args->retry_for,
                     "Keep retrying transport failures for this many seconds");
  enroll->add_flag("--json", output.json, "Print JSON");
  enroll->callback(
      [&action, &output, args] { action = [&output, args] { return Enroll(*args, output); }; });

  CLI::App* check_in = device->add_subcommand(
      "check-in", "Ask the registrar what to do; follow a move to a new owner");
  check_in->add_option("--identity", args->identity, "Device directory")->required();
  check_in->add_flag("--json", output.json, "Print JSON");
  check_in->callback(
      [&action, &output, args] { action = [&output, args] { return CheckIn(*args, output); }; });

  CLI::App* reset = device->add_subcommand(
      "reset", "Physical-presence reset: back to the IDevID, proved by the label's code");
  reset->add_option("--identity", args->identity, "Device directory")->required();
  reset->add_option("--code", args->code, "The reset code printed on the device's label")
      ->required();
  reset->add_flag("--json", output.json, "Print JSON");
  reset->callback(
      [&action, &output, args] { action = [&output, args] { return Reset(*args, output); }; });
}

}  // namespace concierge::app
