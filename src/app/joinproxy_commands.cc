#include <iostream>
#include <vector>

#include "app/cli.h"
#include "app/joinproxy_metrics.h"
#include "coap/discovery_client.h"
#include "common/files.h"
#include "dnssd/browser.h"
#include "dnssd/responder.h"
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
  std::vector<std::string> dns_sd_interfaces;
  std::string metrics_listen;
  std::string identity;
  int rotation_hours = 24;
  int flow_idle_seconds = 30;
  int flows_per_address = 2;
  int flows_per_interface = 10;
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

// ParseCoaps reads "coaps://HOST[:PORT][/PATH]" (the rt=brski answer's form; 5684 by default,
// the path ignored, as the draft says).
Result<HostPort> ParseCoaps(std::string text) {
  text = text.substr(8);
  text = text.substr(0, text.find('/'));
  if (text.find("]:") == std::string::npos &&
      (text.starts_with("[") || text.find(':') == std::string::npos)) {
    text += ":5684";
  }
  return ParseHostPort(text);
}

struct RegistrarEndpoint {
  HostPort where;
  joinproxy::ProxyMode mode;
};

// FirstTarget is the target of the first link in the answers with rt=RT and a target of the
// scheme given, if any.
std::optional<std::string> FirstTarget(const std::vector<coap::DiscoveryAnswer>& answers,
                                       const std::string& rt, const std::string& scheme) {
  for (const coap::DiscoveryAnswer& answer : answers) {
    for (const coap::Link& link : answer.links) {
      if (link.Attribute("rt") == rt && link.target.starts_with(scheme)) {
        return link.target;
      }
    }
  }
  return std::nullopt;
}

// RegistrarByDnsSd is the first registrar that announces its JPY port on the interface.
Result<RegistrarEndpoint> RegistrarByDnsSd(const std::string& interface) {
  ASSIGN_OR_RETURN(auto found,
                   dnssd::Browse(dnssd::kRegistrarJpyService, interface, std::chrono::seconds(2)));
  if (found.empty()) {
    return MakeError(ErrorCode::kNotFound, "no registrar announced _brski-rjp._udp on " +
                                               interface + " (DNS-SD) within 2 s");
  }
  ASSIGN_OR_RETURN(HostPort where,
                   ParseHostPort("[" + found[0].address + "]:" + std::to_string(found[0].port)));
  return RegistrarEndpoint{where, joinproxy::ProxyMode::kStateless};
}

// RegistrarByCoap asks at a CoAP address, as the draft says a generic join proxy does (§"Join
// Proxy discovery of Registrar"): stateless if any registrar offers rt=brski.rjp, otherwise
// stateful if one offers rt=brski.
Result<RegistrarEndpoint> RegistrarByCoap(const std::string& text) {
  ASSIGN_OR_RETURN(HostPort where, coap::ParseCoapUrl(text));
  ASSIGN_OR_RETURN(auto stateless, coap::Discover(where, "rt=brski.rjp", std::chrono::seconds(2)));
  if (auto target = FirstTarget(stateless, "brski.rjp", "jpy://")) {
    ASSIGN_OR_RETURN(HostPort jpy, ParseJpy(*target));
    return RegistrarEndpoint{jpy, joinproxy::ProxyMode::kStateless};
  }
  ASSIGN_OR_RETURN(auto stateful, coap::Discover(where, "rt=brski", std::chrono::seconds(2)));
  if (auto target = FirstTarget(stateful, "brski", "coaps://")) {
    ASSIGN_OR_RETURN(HostPort coaps, ParseCoaps(*target));
    return RegistrarEndpoint{coaps, joinproxy::ProxyMode::kStateful};
  }
  return MakeError(ErrorCode::kNotFound, "discovery at " + text +
                                             " offered no registrar (neither rt=brski.rjp "
                                             "nor rt=brski)");
}

// Registrar is where and how the proxy relays: jpy://HOST:PORT is stateless, coaps://HOST:PORT
// stateful; coap://HOST[:PORT] and dns-sd:IFACE are discovered.
Result<RegistrarEndpoint> Registrar(const std::string& text) {
  if (text.starts_with("dns-sd:")) {
    return RegistrarByDnsSd(text.substr(7));
  }
  if (text.starts_with("coap://")) {
    return RegistrarByCoap(text);
  }
  if (text.starts_with("coaps://")) {
    ASSIGN_OR_RETURN(HostPort where, ParseCoaps(text));
    return RegistrarEndpoint{where, joinproxy::ProxyMode::kStateful};
  }
  ASSIGN_OR_RETURN(HostPort where, ParseJpy(text));
  return RegistrarEndpoint{where, joinproxy::ProxyMode::kStateless};
}

std::string Bracketed(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// ProxyOptions checks the arguments and finds the registrar.
Result<joinproxy::ProxyServerOptions> ProxyOptions(const JoinProxyArgs& args) {
  ASSIGN_OR_RETURN_CTX(HostPort listen, ParseHostPort(args.listen), "--listen");
  ASSIGN_OR_RETURN_CTX(RegistrarEndpoint registrar, Registrar(args.registrar), "--registrar");
  if (args.rotation_hours < 1) {
    return MakeError(ErrorCode::kInvalidArgument, "--key-rotation-hours must be at least 1");
  }
  if (args.flow_idle_seconds < 1 || args.flows_per_address < 1 || args.flows_per_interface < 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--flow-idle-seconds, --flows-per-address and --flows-per-interface must "
                     "be at least 1");
  }
  joinproxy::ProxyServerOptions options{
      .listen = listen, .registrar = registrar.where, .mode = registrar.mode};
  options.times.rotation = std::chrono::hours(args.rotation_hours);
  options.stateful = {.idle = std::chrono::seconds(args.flow_idle_seconds),
                      .per_address = static_cast<size_t>(args.flows_per_address),
                      .per_interface = static_cast<size_t>(args.flows_per_interface)};
  if (args.discovery.empty() && !args.multicast_interfaces.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "--multicast-interface needs --discovery");
  }
  if (!args.discovery.empty()) {
    ASSIGN_OR_RETURN_CTX(HostPort discovery, ParseHostPort(args.discovery), "--discovery");
    options.discovery = discovery;
    options.discovery_interfaces = args.multicast_interfaces;
    if (!args.multicast_interfaces.empty()) {
      options.discovery_groups = discovery.host.find(':') != std::string::npos
                                     ? std::vector<std::string>{"ff02::fd"}
                                     : std::vector<std::string>{"224.0.1.187"};
    }
  }
  if (!args.dir.empty()) {
    RETURN_IF_ERROR(MakeDirectories(args.dir));
    options.state_dir = args.dir;
  }
  return options;
}

// Banner says where the proxy listens, where it relays to, and where it can be found.
std::string Banner(const JoinProxyArgs& args, const joinproxy::ProxyServerOptions& options,
                   const joinproxy::ProxyServer& proxy) {
  bool stateless = options.mode == joinproxy::ProxyMode::kStateless;
  std::string banner = "join proxy (" + std::string(stateless ? "stateless" : "stateful") +
                       ") on udp " + Bracketed(options.listen.host) + ":" +
                       std::to_string(proxy.port()) + ", relaying to " +
                       (stateless ? "jpy://" : "coaps://") + Bracketed(options.registrar.host) +
                       ":" + std::to_string(options.registrar.port) + "\n";
  std::optional<uint16_t> discovery_port = proxy.discovery_port();
  if (discovery_port && options.discovery) {
    banner += "answering discovery (brski-jp) on coap://" + Bracketed(options.discovery->host) +
              ":" + std::to_string(*discovery_port);
    for (const std::string& interface : args.multicast_interfaces) {
      banner += (interface == args.multicast_interfaces.front() ? " and multicast on " : ", ") +
                interface;
    }
    banner += "\n";
  }
  for (const std::string& interface : args.dns_sd_interfaces) {
    banner +=
        (interface == args.dns_sd_interfaces.front() ? "DNS-SD (_brski-proxy._udp) on " : ", ") +
        interface;
  }
  return banner + (args.dns_sd_interfaces.empty() ? "" : "\n");
}

// Summary says what the proxy relayed and what it dropped.
std::string Summary(const joinproxy::ProxyCounters& counters, joinproxy::ProxyMode mode) {
  std::string summary = "join proxy stopped: " + std::to_string(counters.to_registrar) +
                        " datagram(s) to the registrar, " + std::to_string(counters.to_pledges) +
                        " to pledges; dropped " + std::to_string(counters.rate_limited) +
                        " over the rate, " + std::to_string(counters.oversize) + " oversize, " +
                        std::to_string(counters.unauthentic) + " with a header it did not seal, " +
                        std::to_string(counters.malformed) + " not JPY";
  if (mode == joinproxy::ProxyMode::kStateful) {
    summary += "; " + std::to_string(counters.flows_opened) + " flow(s) opened, " +
               std::to_string(counters.flows_expired) + " ended idle, " +
               std::to_string(counters.table_full) + " datagram(s) refused a flow";
  }
  return summary;
}

// RunJoinProxy runs the proxy until SIGTERM or SIGINT; with an identity (a device's LDevID),
// it can serve its metrics over TLS.
Status RunJoinProxy(const JoinProxyArgs& args, const std::string& who,
                    const std::optional<crypto::Credential>& identity) {
  ASSIGN_OR_RETURN(joinproxy::ProxyServerOptions options, ProxyOptions(args));
  ASSIGN_OR_RETURN(auto proxy, joinproxy::ProxyServer::Start(options));
  ProxyMetrics exported(*proxy);
  std::optional<StartedServer> metrics_server;
  if (!args.metrics_listen.empty() && identity) {
    ASSIGN_OR_RETURN_CTX(metrics_server,
                         StartMetricsServer(args.dir, args.metrics_listen, *identity),
                         "--metrics-listen");
  }
  std::unique_ptr<dnssd::Responder> dns_sd;
  if (!args.dns_sd_interfaces.empty()) {
    ASSIGN_OR_RETURN(
        dns_sd, dnssd::Responder::Start({{.type = dnssd::kJoinProxyService,
                                          .instance = "joinproxy-" + std::to_string(proxy->port()),
                                          .port = proxy->port()}},
                                        args.dns_sd_interfaces));
  }
  if (!args.dir.empty()) {
    RETURN_IF_ERROR(WriteFileAtomic(
        std::filesystem::path(args.dir) / "joinproxy.addr",
        Bracketed(options.listen.host) + ":" + std::to_string(proxy->port()) + "\n"));
  }
  std::cout << who << Banner(args, options, *proxy)
            << (metrics_server ? "metrics on " + metrics_server->url + "/metrics\n" : "")
            << std::flush;
  WaitForTermination();
  if (metrics_server) {
    metrics_server->server->Stop();
  }
  dns_sd.reset();
  joinproxy::ProxyCounters counters = proxy->counters();
  proxy.reset();
  std::cout << Summary(counters, options.mode) << std::endl;
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
  return RunJoinProxy(args, identity.idevid.SubjectSerialNumber() + ": ",
                      crypto::Credential{domain->ldevid, domain->key, {}});
}

void AddOptions(CLI::App& command, JoinProxyArgs& args) {
  command.add_option("--dir", args.dir,
                     "Where the proxy keeps its header key and upstream port, so a restart "
                     "loses no handshake, and its address (joinproxy.addr); none: in memory");
  command.add_option("--listen", args.listen, "Pledge-facing HOST:PORT (UDP; port 0 picks one)")
      ->capture_default_str();
  command
      .add_option("--registrar", args.registrar,
                  "The registrar: jpy://HOST:PORT (serve --jpy-listen) to relay statelessly, "
                  "coaps://HOST[:PORT] (serve --coaps-listen) to relay with a flow per "
                  "pledge, coap://HOST[:PORT] to discover it there (rt=brski.rjp, "
                  "stateless, preferred; else rt=brski, stateful), or dns-sd:IFACE to find "
                  "its JPY port by DNS-SD on that link (_brski-rjp._udp)")
      ->required();
  command.add_option("--discovery", args.discovery,
                     "HOST:PORT (UDP) where pledges discover this proxy over plain CoAP "
                     "(?brski-jp=*; 5683 is CoAP's port); none when not given");
  command.add_option("--multicast-interface", args.multicast_interfaces,
                     "Interface on which --discovery also answers the all-CoAP-nodes group "
                     "(ff02::fd for an IPv6 address, 224.0.1.187 for IPv4); repeatable");
  command.add_option("--dns-sd-interface", args.dns_sd_interfaces,
                     "Interface on which to announce the proxy to pledges by DNS-SD over "
                     "multicast DNS (_brski-proxy._udp; IPv6); repeatable");
  command
      .add_option("--key-rotation-hours", args.rotation_hours,
                  "Hours between new header keys (a rotation ends handshakes under way)")
      ->capture_default_str();
  command
      .add_option("--flow-idle-seconds", args.flow_idle_seconds,
                  "Stateful mode: a pledge's flow ends this long after its last datagram")
      ->capture_default_str();
  command
      .add_option("--flows-per-address", args.flows_per_address,
                  "Stateful mode: flows at once from one pledge address")
      ->capture_default_str();
  command
      .add_option("--flows-per-interface", args.flows_per_interface,
                  "Stateful mode: flows at once on one interface (more are dropped and counted)")
      ->capture_default_str();
}

}  // namespace

void AddJoinProxyCommands(CLI::App& app, Action& action, Output& /*output*/) {
  auto args = std::make_shared<JoinProxyArgs>();
  CLI::App* proxy = app.add_subcommand(
      "joinproxy",
      "Relay pledges' DTLS to a registrar they cannot reach, keeping no state per "
      "pledge (stateless JPY) or a flow per pledge (stateful), docs/joinproxy.md");
  AddOptions(*proxy, *args);
  proxy->callback(
      [&action, args] { action = [args] { return RunJoinProxy(*args, "", std::nullopt); }; });

  CLI::App* device = app.get_subcommand("device");
  CLI::App* on_device = device->add_subcommand(
      "joinproxy", "Act as a join proxy for neighbours, as an enrolled device");
  on_device->add_option("--identity", args->identity, "Device directory (enrolled)")->required();
  on_device->add_option("--metrics-listen", args->metrics_listen,
                        "HOST:PORT where GET /metrics (Prometheus) answers over TLS with the "
                        "device's LDevID; none when not given");
  AddOptions(*on_device, *args);
  on_device->callback([&action, args] { action = [args] { return RunDeviceJoinProxy(*args); }; });
}

}  // namespace concierge::app
