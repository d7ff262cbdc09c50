#include <iostream>
#include <vector>

#include "app/cli.h"
#include "coap/discovery_client.h"
#include "common/files.h"
#include "joinproxy/proxy_server.h"
#include "pledge/device_directory.h"

namespace concierge::app {
namespace {

struct JoinProxyArgs {
  std::string dir;
  std::string listen = "[::]:0";
  std::string registrar;
  std::string discovery;
  std::vector<std::string> multicast_interfaces;
  std::string identity;
  int rotation_hours = 24;
};

// ParseJpy reads "jpy://HOST:PORT" (the discovery answer's form; the port is required: JPY has
// no default) or "HOST:PORT".
Result<HostPort> ParseJpy(std::string text) {
  if (text.starts_with("jpy://")) {
    text = text.substr(6);
    text = text.substr(0, text.find('/'));
  }
  ASSIGN_OR_RETURN(HostPort where, ParseHostPort(text));
  if (where.port == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the registrar's JPY port is needed: JPY has no default port");
  }
  return where;
}

// RegistrarJpy is the registrar's JPY endpoint: given, or for coap://HOST[:PORT] found there
// by asking for rt=brski.rjp, as a stateless join proxy does (draft §"Join Proxy discovery
// of Registrar").
Result<HostPort> RegistrarJpy(const std::string& text) {
  if (!text.starts_with("coap://")) {
    return ParseJpy(text);
  }
  ASSIGN_OR_RETURN(HostPort where, coap::ParseCoapUrl(text));
  ASSIGN_OR_RETURN(auto answers, coap::Discover(where, "rt=brski.rjp", std::chrono::seconds(2)));
  for (const coap::DiscoveryAnswer& answer : answers) {
    for (const coap::Link& link : answer.links) {
      if (link.Attribute("rt") == "brski.rjp" && link.target.starts_with("jpy://")) {
        return ParseJpy(link.target);
      }
    }
  }
  return MakeError(ErrorCode::kNotFound,
                   "discovery at " + text + " offered no registrar that takes JPY (rt=brski.rjp)");
}

Status RunJoinProxy(const JoinProxyArgs& args, const std::string& who) {
  ASSIGN_OR_RETURN_CTX(HostPort listen, ParseHostPort(args.listen), "--listen");
  ASSIGN_OR_RETURN_CTX(HostPort registrar, RegistrarJpy(args.registrar), "--registrar");
  if (args.rotation_hours < 1) {
    return MakeError(ErrorCode::kInvalidArgument, "--key-rotation-hours must be at least 1");
  }
  joinproxy::ProxyServerOptions options{.listen = listen, .registrar = registrar};
  options.times.rotation = std::chrono::hours(args.rotation_hours);
  if (!args.discovery.empty()) {
    ASSIGN_OR_RETURN_CTX(HostPort discovery, ParseHostPort(args.discovery), "--discovery");
    options.discovery = discovery;
    options.discovery_interfaces = args.multicast_interfaces;
    if (!args.multicast_interfaces.empty()) {
      options.discovery_groups = discovery.host.find(':') != std::string::npos
                                     ? std::vector<std::string>{"ff02::fd"}
                                     : std::vector<std::string>{"224.0.1.187"};
    }
  } else if (!args.multicast_interfaces.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "--multicast-interface needs --discovery");
  }
  if (!args.dir.empty()) {
    RETURN_IF_ERROR(MakeDirectories(args.dir));
    options.state_dir = args.dir;
  }
  ASSIGN_OR_RETURN(auto proxy, joinproxy::ProxyServer::Start(options));
  std::string host =
      listen.host.find(':') != std::string::npos ? "[" + listen.host + "]" : listen.host;
  if (!args.dir.empty()) {
    RETURN_IF_ERROR(WriteFileAtomic(std::filesystem::path(args.dir) / "joinproxy.addr",
                                    host + ":" + std::to_string(proxy->port()) + "\n"));
  }
  std::cout << who << "join proxy (stateless) on udp " << host << ":" << proxy->port()
            << ", relaying to jpy://"
            << (registrar.host.find(':') != std::string::npos ? "[" + registrar.host + "]"
                                                              : registrar.host)
            << ":" << registrar.port << "\n";
  if (proxy->discovery_port()) {
    std::string discovery_host = options.discovery->host.find(':') != std::string::npos
                                     ? "[" + options.discovery->host + "]"
                                     : options.discovery->host;
    std::cout << "answering discovery (brski-jp) on coap://" << discovery_host << ":"
              << *proxy->discovery_port();
    for (const std::string& interface : args.multicast_interfaces) {
      std::cout << (interface == args.multicast_interfaces.front() ? " and multicast on " : ", ")
                << interface;
    }
    std::cout << "\n";
  }
  std::cout << std::flush;
  WaitForTermination();
  joinproxy::ProxyCounters counters = proxy->counters();
  proxy.reset();
  std::cout << "join proxy stopped: " << counters.to_registrar << " datagram(s) to the registrar, "
            << counters.to_pledges << " to pledges; dropped " << counters.rate_limited
            << " over the rate, " << counters.oversize << " oversize, " << counters.unauthentic
            << " with a header it did not seal, " << counters.malformed << " not JPY" << std::endl;
  return OkStatus();
}

// RunDeviceJoinProxy is the proxy on an enrolled device, so a site grows outward: only a
// device that holds the site's LDevID may relay for its neighbours.
Status RunDeviceJoinProxy(const JoinProxyArgs& args) {
  ASSIGN_OR_RETURN(auto identity, pledge::LoadDeviceDirectory(args.identity));
  auto domain = pledge::LoadDomainCredentials(args.identity);
  if (!domain) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     identity.idevid.SubjectSerialNumber() +
                         " is not enrolled: a device relays for its neighbours only once it "
                         "holds the site's LDevID (device enroll)");
  }
  return RunJoinProxy(args, identity.idevid.SubjectSerialNumber() + ": ");
}

void AddOptions(CLI::App& command, JoinProxyArgs& args) {
  command.add_option("--dir", args.dir,
                     "Where the proxy keeps its header key and upstream port, so a restart "
                     "loses no handshake, and its address (joinproxy.addr); none: in memory");
  command.add_option("--listen", args.listen, "Pledge-facing HOST:PORT (UDP; port 0 picks one)")
      ->capture_default_str();
  command
      .add_option("--registrar", args.registrar,
                  "The registrar's JPY endpoint: jpy://HOST:PORT (serve --jpy-listen), or "
                  "coap://HOST[:PORT] to discover it there (rt=brski.rjp)")
      ->required();
  command.add_option("--discovery", args.discovery,
                     "HOST:PORT (UDP) where pledges discover this proxy over plain CoAP "
                     "(?brski-jp=*; 5683 is CoAP's port); none when not given");
  command.add_option("--multicast-interface", args.multicast_interfaces,
                     "Interface on which --discovery also answers the all-CoAP-nodes group "
                     "(ff02::fd for an IPv6 address, 224.0.1.187 for IPv4); repeatable");
  command
      .add_option("--key-rotation-hours", args.rotation_hours,
                  "Hours between new header keys (a rotation ends handshakes under way)")
      ->capture_default_str();
}

}  // namespace

void AddJoinProxyCommands(CLI::App& app, Action& action, Output& /*output*/) {
  auto args = std::make_shared<JoinProxyArgs>();
  CLI::App* proxy = app.add_subcommand(
      "joinproxy",
      "Relay pledges' DTLS to a registrar they cannot reach, keeping no state per "
      "pledge (stateless JPY, docs/joinproxy.md)");
  AddOptions(*proxy, *args);
  proxy->callback([&action, args] { action = [args] { return RunJoinProxy(*args, ""); }; });

  CLI::App* device = app.get_subcommand("device");
  CLI::App* on_device = device->add_subcommand(
      "joinproxy", "Act as a join proxy for neighbours, as an enrolled device");
  on_device->add_option("--identity", args->identity, "Device directory (enrolled)")->required();
  AddOptions(*on_device, *args);
  on_device->callback([&action, args] { action = [args] { return RunDeviceJoinProxy(*args); }; });
}

}  // namespace concierge::app
