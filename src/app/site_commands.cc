#include <sys/resource.h>

#include <atomic>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "api/device_json.h"
#include "api/management_api.h"
#include "api/problem.h"
#include "app/cli.h"
#include "app/joinproxy_metrics.h"
#include "app/open_site.h"
#include "coap/coaps_server.h"
#include "common/bytes.h"
#include "common/files.h"
#include "common/ip_network.h"
#include "dnssd/responder.h"
#include "http/https_server.h"
#include "joinproxy/registrar_front.h"
#include "loop/event_loop.h"
#include "metrics/metrics.h"
#include "registrar/https_masa_client.h"
#include "registrar/registrar_coap.h"
#include "registrar/registrar_http.h"
#include "registrar/site_directory.h"
#include "store/audit_log.h"

namespace concierge::app {
namespace {

struct SiteArgs {
  std::string dir;
  std::string name;
  std::string registrar_names;
  std::string ca;
  std::string approval = "auto";
  std::string listen = "127.0.0.1:8443";
  std::string api_listen;
  std::string coaps_listen;
  std::string coap_discovery;
  std::string jpy_listen;
  std::vector<std::string> coap_multicast_interfaces;
  std::vector<std::string> dns_sd_interfaces;
  std::vector<std::string> jpy_allow;
  http::ServerOptions server;
  int64_t device_id = 0;
  std::string device;
  std::string zone;
  std::string state;
  std::string reason;
  std::string firewall = "nftables";
  std::string database;
  std::string metrics_listen;
};

Status Init(const SiteArgs& args, const Output& output) {
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(auto site,
                   registrar::InitSiteDirectory(args.dir, args.name, args.registrar_names, clock,
                                                random, args.database));
  output.Print(Json{{"dir", args.dir},
                    {"name", site.identity.site_name},
                    {"domain_ca", (site.dir / "domain-ca.pem").string()}},
               "site \"" + site.identity.site_name + "\" initialised in " + args.dir +
                   "\n  domain CA: " + (site.dir / "domain-ca.pem").string());
  return OkStatus();
}

Status TrustMaker(const SiteArgs& args, const Output& output) {
  if (args.approval != "auto" && args.approval != "manual") {
    return MakeError(ErrorCode::kInvalidArgument, "--approval must be auto or manual");
  }
  ASSIGN_OR_RETURN(std::string pem, ReadFile(args.ca));
  ASSIGN_OR_RETURN_CTX(auto ca, crypto::Certificate::FromPem(pem), args.ca);
  std::string name = args.name.empty() ? ca.SubjectCommonName() : args.name;
  ASSIGN_OR_RETURN(auto site, OpenSite(args.dir));
  ASSIGN_OR_RETURN_CTX(int64_t id,
                       site->TrustMaker(name, ca,
                                        args.approval == "auto" ? registrar::Approval::kAuto
                                                                : registrar::Approval::kManual),
                       args.ca);
  output.Print(Json{{"maker_id", id}, {"name", name}, {"approval", args.approval}},
               "trusting maker \"" + name + "\" (id " + std::to_string(id) + ", approval " +
                   args.approval + ")");
  return OkStatus();
}

// ServeApi starts the management API on its own listener, when asked for one.
Result<StartedServer> ServeApi(const SiteArgs& args, api::ManagementApi& api,
                               const http::TlsIdentity& identity,
                               const crypto::Certificate& domain_ca) {
  // Scripts may sign in with an operator's client certificate. Only the domain CA is named in
  // the request, so a browser holding no operator certificate prompts nobody.
  ASSIGN_OR_RETURN(auto ctx, http::MakeServerContext(identity, /*request_client_cert=*/false));
  RETURN_IF_ERROR(http::AskForClientCertificates(ctx.get(), {domain_ca}));
  http::ServerOptions options;
  options.workers = 8;
  options.limits.max_body_bytes = api::kMaxBodyBytes;
  options.render_refusal = [](const Error& error, int status) {
    return api::Problem(error, status);
  };
  return StartLoggedServer(
      args.dir, args.api_listen, options, std::move(ctx), "api", "api.addr",
      [&api](const http::HttpRequest& request, const http::ConnectionInfo& connection,
             const http::Respond& respond) { api.Handle(request, connection, respond); });
}

// LoopThread runs an event loop on a thread of its own until Stop: the management API's live
// event stream ends its waits on this loop's timers.
class LoopThread {
 public:
  LoopThread() {
    Beat();
    thread_ = std::thread([this] { loop_.RunUntil([this] { return stopping_.load(); }); });
  }

  ~LoopThread() { Stop(); }

  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  loop::EventLoop& loop() { return loop_; }

  // Stop ends the thread; the loop stays, so timers can still be cancelled.
  void Stop() {
    stopping_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
  }

 private:
  // A timer always pending keeps RunUntil from returning for want of work.
  void Beat() {
    if (!stopping_) {
      loop_.After(std::chrono::seconds(1), [this] { Beat(); });
    }
  }

  loop::EventLoop loop_;
  std::atomic<bool> stopping_ = false;
  std::thread thread_;
};

// SiteGauges are the site's gauges, read from its store when scraped, for as long as it serves.
class SiteGauges {
 public:
  explicit SiteGauges(site::Site& site) {
    metrics::Global().Gauge("concierge_approval_queue_devices",
                            "Devices waiting for an operator's approval", [&site] {
                              // A store that cannot answer leaves the gauge out of the
                              // scrape (absent, not a made-up value).
                              std::vector<std::pair<metrics::Labels, double>> values;
                              if (auto pending = site.Devices("pending")) {
                                values.push_back({{}, static_cast<double>(pending->size())});
                              }
                              return values;
                            });
    metrics::Global().Gauge(
        "concierge_certificates_expiring", "Unrevoked LDevIDs expiring within the window", [&site] {
          std::vector<std::pair<metrics::Labels, double>> values;
          auto page =
              site.store().Certificates(ToUnixSeconds(SystemClock().Now()), 0, 0, 0, std::nullopt);
          if (page) {
            const registrar::CertificateForecast& f = page->forecast;
            values.push_back({{{"within", "expired"}}, static_cast<double>(f.expired)});
            values.push_back({{{"within", "7d"}}, static_cast<double>(f.within_7_days)});
            values.push_back({{{"within", "30d"}}, static_cast<double>(f.within_30_days)});
            values.push_back({{{"within", "90d"}}, static_cast<double>(f.within_90_days)});
          }
          return values;
        });
  }

  ~SiteGauges() {
    metrics::Global().RemoveGauge("concierge_approval_queue_devices");
    metrics::Global().RemoveGauge("concierge_certificates_expiring");
  }

  SiteGauges(const SiteGauges&) = delete;
  SiteGauges& operator=(const SiteGauges&) = delete;
};

// CoapDiscovery answers on plain CoAP at where, and on the all-CoAP-nodes groups of its
// family on each interface named (RFC 7252 §12.8).
coap::DiscoveryOptions CoapDiscovery(const HostPort& where,
                                     const std::vector<std::string>& interfaces,
                                     std::shared_ptr<std::atomic<uint16_t>> jpy_port) {
  coap::DiscoveryOptions discovery;
  discovery.listen = where;
  discovery.interfaces = interfaces;
  if (!interfaces.empty()) {
    discovery.groups = where.host.find(':') != std::string::npos
                           ? std::vector<std::string>{"ff02::fd", "ff05::fd"}
                           : std::vector<std::string>{"224.0.1.187"};
  }
  discovery.links = [jpy_port](const std::optional<std::string>& host, uint16_t coaps_port) {
    uint16_t jpy = jpy_port->load();
    return registrar::RegistrarDiscoveryLinks(host, coaps_port,
                                              jpy == 0 ? std::nullopt : std::optional(jpy));
  };
  return discovery;
}

Status Serve(const SiteArgs& args) {
  ASSIGN_OR_RETURN(auto firewall, OpenFirewall(args.firewall));
  ASSIGN_OR_RETURN(auto controller, OpenSite(args.dir));
  LoopThread events;
  std::unique_ptr<api::ManagementApi> api;
  std::optional<StartedServer> api_server;
  if (!args.api_listen.empty()) {
    ASSIGN_OR_RETURN(api, api::ManagementApi::Create(*controller, events.loop(), *firewall));
    ASSIGN_OR_RETURN(api_server, ServeApi(args, *api, controller->directory().Tls(),
                                          controller->directory().identity.domain_ca));
  }
  ASSIGN_OR_RETURN(auto ctx, http::MakeServerContext(controller->directory().Tls(),
                                                     /*request_client_cert=*/true));
  ASSIGN_OR_RETURN(
      auto registrar,
      StartLoggedServer(
          args.dir, args.listen, args.server, std::move(ctx), "registrar", "listen.addr",
          [&controller](const http::HttpRequest& request, const http::ConnectionInfo& connection,
                        const http::Respond& respond) {
            registrar::HandleSiteRequestAsync(controller->registrar(), controller->ownership(),
                                              request, connection, respond);
          }));
  std::unique_ptr<coap::CoapsServer> coaps;
  std::string coaps_address;
  std::string discovery_address;
  auto uri_host = [](const std::string& host) {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
  };
  if ((!args.coap_discovery.empty() || !args.jpy_listen.empty()) && args.coaps_listen.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(args.jpy_listen.empty() ? "--coap-discovery" : "--jpy-listen") +
                         " needs --coaps-listen: it leads to the CoAPS endpoint");
  }
  if (!args.jpy_allow.empty() && args.jpy_listen.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "--jpy-allow needs --jpy-listen");
  }
  auto jpy_port = std::make_shared<std::atomic<uint16_t>>(0);
  std::unique_ptr<joinproxy::RegistrarFront> jpy_front;
  std::string jpy_address;
  if (!args.coaps_listen.empty()) {
    ASSIGN_OR_RETURN_CTX(HostPort where, ParseHostPort(args.coaps_listen), "--coaps-listen");
    coap::ServerOptions options{.listen = where, .identity = controller->directory().Tls()};
    HostPort plain;
    if (!args.coap_discovery.empty()) {
      ASSIGN_OR_RETURN_CTX(plain, ParseHostPort(args.coap_discovery), "--coap-discovery");
      options.discovery = CoapDiscovery(plain, args.coap_multicast_interfaces, jpy_port);
    }
    ASSIGN_OR_RETURN(
        coaps, coap::CoapsServer::Start(
                   std::move(options), registrar::RegistrarCoapResources(controller->registrar())));
    // Like listen.addr: where scripts find the port a ":0" picked.
    coaps_address = uri_host(where.host) + ":" + std::to_string(coaps->port());
    RETURN_IF_ERROR(
        WriteFileAtomic(std::filesystem::path(args.dir) / "coaps.addr", coaps_address + "\n"));
    if (!args.jpy_listen.empty()) {
      ASSIGN_OR_RETURN_CTX(HostPort jpy, ParseHostPort(args.jpy_listen), "--jpy-listen");
      // The front reaches the CoAPS listener where it listens; a wildcard is reached on loopback.
      HostPort dtls{where.host, coaps->port()};
      if (dtls.host == "::" || dtls.host == "[::]") {
        dtls.host = "::1";
      } else if (dtls.host == "0.0.0.0") {
        dtls.host = "127.0.0.1";
      }
      // The front holds a socket per pledge behind each proxy (up to 1,024 sessions) beside
      // the registrar's own: a soft limit of 1,024 descriptors would not hold them.
      rlimit files{};
      if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &files);
      }
      joinproxy::FrontOptions front{.listen = jpy, .dtls = dtls};
      for (const std::string& allowed : args.jpy_allow) {
        ASSIGN_OR_RETURN_CTX(IpNetwork network, IpNetwork::Parse(allowed), "--jpy-allow");
        front.allowed_proxies.push_back(network);
      }
      ASSIGN_OR_RETURN(jpy_front, joinproxy::RegistrarFront::Start(front));
      jpy_port->store(jpy_front->port());
      jpy_address = uri_host(jpy.host) + ":" + std::to_string(jpy_front->port());
      RETURN_IF_ERROR(
          WriteFileAtomic(std::filesystem::path(args.dir) / "jpy.addr", jpy_address + "\n"));
    }
    if (coaps->discovery_port()) {
      discovery_address = uri_host(plain.host) + ":" + std::to_string(*coaps->discovery_port());
      RETURN_IF_ERROR(
          WriteFileAtomic(std::filesystem::path(args.dir) / "coap.addr", discovery_address + "\n"));
    }
  }
  // DNS-SD: the registrar one hop away is its own join proxy (_brski-proxy._udp, its CoAPS
  // port), and stateless join proxies find its JPY port (_brski-rjp._udp).
  std::unique_ptr<dnssd::Responder> dns_sd;
  if (!args.dns_sd_interfaces.empty()) {
    if (!coaps) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--dns-sd-interface needs --coaps-listen: it announces the CoAPS endpoint");
    }
    // Named by port, not by the site: answers say what onboarding needs, no more.
    std::string name = "registrar-" + std::to_string(coaps->port());
    std::vector<dnssd::Service> services = {
        {.type = dnssd::kJoinProxyService, .instance = name, .port = coaps->port()}};
    if (jpy_front) {
      services.push_back(
          {.type = dnssd::kRegistrarJpyService, .instance = name, .port = jpy_front->port()});
    }
    ASSIGN_OR_RETURN(dns_sd, dnssd::Responder::Start(services, args.dns_sd_interfaces));
  }
  ASSIGN_OR_RETURN(auto metrics_server, StartMetricsServer(args.dir, args.metrics_listen,
                                                           controller->directory().Tls()));
  SiteGauges gauges(*controller);
  std::optional<FrontMetrics> front_metrics;
  if (jpy_front) {
    front_metrics.emplace(*jpy_front);
  }
  // One write, so whoever waits for the banner reads it whole.
  std::string banner = "site controller \"" + controller->directory().identity.site_name +
                       "\": registrar listening on " + registrar.url + "\n";
  if (coaps) {
    banner += "constrained onboarding on coaps://" + coaps_address + " (DTLS 1.2)\n";
  }
  if (!jpy_address.empty()) {
    banner += "stateless join proxies on jpy://" + jpy_address;
    for (const std::string& allowed : args.jpy_allow) {
      banner += (allowed == args.jpy_allow.front() ? ", only from " : ", ") + allowed;
    }
    banner += "\n";
  }
  if (!discovery_address.empty()) {
    banner += "discovery on coap://" + discovery_address;
    for (const std::string& interface : args.coap_multicast_interfaces) {
      banner +=
          (interface == args.coap_multicast_interfaces.front() ? " and multicast on " : ", ") +
          interface;
    }
    banner += "\n";
  }
  if (dns_sd) {
    banner +=
        std::string("DNS-SD (_brski-proxy._udp") + (jpy_front ? ", _brski-rjp._udp" : "") + ") on";
    for (const std::string& interface : args.dns_sd_interfaces) {
      banner += (interface == args.dns_sd_interfaces.front() ? " " : ", ") + interface;
    }
    banner += "\n";
  }
  if (metrics_server) {
    banner += "metrics on " + metrics_server->url + "/metrics\n";
  }
  if (api_server) {
    banner += "management API on " + api_server->url + "/api/v1/\n";
    banner += firewall->Kind() == "dry-run"
                  ? "firewall: dry-run (quarantines and policy are rendered, not loaded)\n"
                  : "firewall: nftables\n";
  }
  std::cout << banner << std::flush;
  WaitForTermination();
  if (metrics_server) {
    metrics_server->server->Stop();
  }
  if (api_server) {
    api_server->server->Stop();
  }
  // No wait may end on the loop while the API goes away.
  events.Stop();
  api.reset();
  dns_sd.reset();
  front_metrics.reset();
  jpy_front.reset();
  coaps.reset();
  registrar.server->Stop();
  std::cout << "registrar stopped" << std::endl;
  return OkStatus();
}

Status ListDevices(const SiteArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenSite(args.dir));
  ASSIGN_OR_RETURN(auto devices, site->Devices(args.state));
  Json list = Json::array();
  std::ostringstream text;
  text << std::left << std::setw(5) << "ID" << std::setw(22) << "SERIAL" << std::setw(22) << "MAKER"
       << std::setw(15) << "STATE" << std::setw(22) << "LDEVID EXPIRES"
       << "ENROLL STATUS\n";
  size_t shown = 0;
  for (const auto& device : devices) {
    ++shown;
    Json row = api::OnboardingJson(device);
    list.push_back(row);
    text << std::setw(5) << device.id << std::setw(22) << device.serial << std::setw(22)
         << device.maker_name.substr(0, 21) << std::setw(15)
         << (device.departure.empty() ? device.state : device.departure) << std::setw(22)
         << row["ldevid_not_after"].get<std::string>()
         << (device.enroll_status.empty() ? "-" : device.enroll_status) << "\n";
  }
  text << shown << " device(s)";
  output.Print(list, text.str());
  return OkStatus();
}

// ShowDevice prints one device's whole record: the registry's, then its onboarding.
Status ShowDevice(const SiteArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenSite(args.dir));
  ASSIGN_OR_RETURN(site::DeviceDetail detail, site->DescribeDevice(args.device));
  const registry::Device& d = detail.record;
  Json json = api::DeviceDetailJson(detail);
  std::string software_text;
  for (const auto& [package, version] : d.software) {
    software_text += (software_text.empty() ? "" : ", ") + package + " " + version;
  }
  std::ostringstream text;
  auto line = [&text](std::string_view key, const std::string& value) {
    text << std::left << std::setw(16) << key << (value.empty() ? "-" : value) << "\n";
  };
  line("name", d.name);
  line("serial", d.serial);
  line("maker", d.maker);
  line("owner", d.owner);
  line("zone", d.zone);
  line("mac", d.mac);
  line("addresses", JoinWords(d.addresses));
  line("mud url", d.mud_url.empty() ? "" : d.mud_url + " (" + d.url_source + ")");
  line("software", software_text);
  std::string tenants;
  for (const std::string& tenant : detail.tenants) {
    tenants += (tenants.empty() ? "" : ", ") + tenant;
  }
  line("tenants", tenants);
  if (detail.onboarding) {
    const registrar::DeviceRecord& o = *detail.onboarding;
    line("device id", std::to_string(o.id));
    line("state", o.departure.empty() ? o.state : o.departure);
    line("ldevid expires", json["onboarding"]["ldevid_not_after"].get<std::string>());
    line("enroll status", o.enroll_status);
  }
  std::string rendered = text.str();
  rendered.pop_back();
  output.Print(json, rendered);
  return OkStatus();
}

Status SetZone(const SiteArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenSite(args.dir));
  RETURN_IF_ERROR(site->SetZone(args.device, args.zone));
  output.Print(Json{{"device", args.device}, {"zone", args.zone}},
               args.zone.empty() ? "device " + args.device + " is in no zone"
                                 : "device " + args.device + " is in zone " + args.zone);
  return OkStatus();
}

// Quarantine cuts a device off (or lets it back with release) and applies the policy at once.
Status Quarantine(const SiteArgs& args, const Output& output, bool release) {
  ASSIGN_OR_RETURN(auto firewall, OpenFirewall(args.firewall));
  ASSIGN_OR_RETURN(auto site, OpenSite(args.dir));
  ASSIGN_OR_RETURN(firewall::ApplyReport report,
                   release ? site->Release(args.device, LocalActor(), *firewall)
                           : site->Quarantine(args.device, args.reason, LocalActor(), *firewall));
  std::string verb = release ? "released" : "quarantined";
  output.Print(Json{{"device", args.device},
                    {"quarantined", !release},
                    {"firewall", firewall->Kind()},
                    {"changed", report.changed},
                    {"sha256", report.sha256}},
               "device " + args.device + " " + verb + "; policy " +
                   (report.changed ? "applied" : "unchanged") + " (" +
                   std::string(firewall->Kind()) + "), ruleset sha256 " +
                   report.sha256.substr(0, 16));
  return OkStatus();
}

Status Approve(const SiteArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenSite(args.dir));
  RETURN_IF_ERROR(site->ApproveDevice(args.device_id, LocalActor()));
  output.Print(Json{{"approved", args.device_id}},
               "device " + std::to_string(args.device_id) + " approved");
  return OkStatus();
}

Status AuditVerify(const SiteArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenSite(args.dir));
  ASSIGN_OR_RETURN(site::AuditVerdict verdict, site->VerifyAudit());
  std::string head = HexEncode(verdict.head);
  output.Print(Json{{"events", verdict.events}, {"head", head}, {"intact", true}},
               "audit chain intact: " + std::to_string(verdict.events) + " events, head " +
                   (head.empty() ? "(empty)" : head));
  return OkStatus();
}

Status AuditShow(const SiteArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenSite(args.dir));
  ASSIGN_OR_RETURN(auto records,
                   args.device.empty() ? site->AuditEvents() : site->DeviceAuditTrail(args.device));
  Json list = Json::array();
  std::string text;
  for (const auto& record : records) {
    list.push_back(store::AuditRecordToJson(record));
    text += std::to_string(record.seq) + "  " + FormatRfc3339(FromUnixSeconds(record.at)) + "  " +
            record.kind + "  " + record.subject + "  " + record.detail + "\n";
  }
  output.Print(list, text.empty() ? "no audit events" : text);
  return OkStatus();
}

}  // namespace

void AddSiteCommands(CLI::App& app, Action& action, Output& output) {
  auto args = std::make_shared<SiteArgs>();
  auto bind = [&action, &output, args](CLI::App* command,
                                       Status (*body)(const SiteArgs&, const Output&)) {
    command->callback([&action, &output, args, body] {
      action = [&output, args, body] { return body(*args, output); };
    });
  };

  CLI::App* site = app.add_subcommand("site", "The site: domain CA and trusted makers");
  site->require_subcommand(1);
  CLI::App* init = site->add_subcommand("init", "Create a site: domain CA, registrar, store");
  AddSiteDir(*init, args->dir);
  init->add_option("--name", args->name, "Site name")->required();
  init->add_option("--registrar-names", args->registrar_names,
                   "Extra registrar certificate names, e.g. DNS:gw.home.arpa,IP:192.0.2.1");
  init->add_option("--db", args->database,
                   "Keep the site's records in PostgreSQL (postgresql://USER@HOST[,HOST2]/DB?"
                   "target_session_attrs=read-write) instead of DIR/site.db");
  init->add_flag("--json", output.json, "Print JSON");
  bind(init, Init);
  CLI::App* trust = site->add_subcommand("trust-maker", "Allow a maker's devices to join");
  AddSiteDir(*trust, args->dir);
  trust->add_option("--ca", args->ca, "The maker's CA certificate (PEM)")->required();
  trust->add_option("--name", args->name, "Display name (default: the CA's common name)");
  trust->add_option("--approval", args->approval, "auto: join at once; manual: wait for approval")
      ->capture_default_str();
  trust->add_flag("--json", output.json, "Print JSON");
  bind(trust, TrustMaker);

  CLI::App* serve = app.add_subcommand("serve", "Run the site controller (BRSKI registrar + EST)");
  AddSiteDir(*serve, args->dir);
  serve->add_option("--listen", args->listen, "HOST:PORT (port 0 picks one)")
      ->capture_default_str();
  serve->add_option("--coaps-listen", args->coaps_listen,
                    "HOST:PORT (UDP) for constrained onboarding over CoAP/DTLS, cBRSKI and "
                    "EST-coaps (docs/constrained.md; 5684 is CoAPS's port); none when not given");
  serve->add_option("--coap-discovery", args->coap_discovery,
                    "HOST:PORT (UDP) where pledges and join proxies discover the registrar over "
                    "plain CoAP (5683 is CoAP's port); needs --coaps-listen; none when not given");
  serve->add_option("--jpy-listen", args->jpy_listen,
                    "HOST:PORT (UDP) where stateless join proxies send pledges' DTLS as JPY "
                    "(docs/joinproxy.md; no default port: discovery announces it); needs "
                    "--coaps-listen");
  serve->add_option("--jpy-allow", args->jpy_allow,
                    "Take JPY only from join proxies in this network (CIDR, e.g. fd00:5::/64); "
                    "repeatable; anywhere when not given");
  serve->add_option("--coap-multicast-interface", args->coap_multicast_interfaces,
                    "Interface on which --coap-discovery also answers the all-CoAP-nodes groups "
                    "(ff02::fd, ff05::fd for an IPv6 address, 224.0.1.187 for IPv4); repeatable");
  serve->add_option("--dns-sd-interface", args->dns_sd_interfaces,
                    "Interface on which to announce the registrar by DNS-SD over multicast DNS "
                    "(_brski-proxy._udp for pledges, _brski-rjp._udp for join proxies; IPv6); "
                    "needs --coaps-listen; repeatable");
  serve->add_option("--api-listen", args->api_listen,
                    "HOST:PORT of the management API (docs/dashboard.md); none when not given");
  serve
      ->add_option("--firewall", args->firewall,
                   "Where the API's quarantines go: nftables (this namespace's kernel, needs "
                   "CAP_NET_ADMIN) or dry-run (render, do not load)")
      ->capture_default_str();
  AddServerOptions(*serve, args->server, args->metrics_listen);
  serve->callback([&action, args] { action = [args] { return Serve(*args); }; });

  CLI::App* devices = app.add_subcommand("devices", "The site's device inventory");
  devices->require_subcommand(1);
  CLI::App* list = devices->add_subcommand("list", "List devices");
  AddSiteDir(*list, args->dir);
  list->add_option("--state", args->state,
                   "Only devices in this state (pending, approved, "
                   "vouchered, enrolled)");
  list->add_flag("--json", output.json, "Print JSON");
  bind(list, ListDevices);
  CLI::App* approve = devices->add_subcommand("approve", "Let a pending device join");
  AddSiteDir(*approve, args->dir);
  approve->add_option("id", args->device_id, "Device id (from devices list)")->required();
  approve->add_flag("--json", output.json, "Print JSON");
  bind(approve, Approve);

  CLI::App* show_device = devices->add_subcommand("show", "One device's whole record");
  AddSiteDir(*show_device, args->dir);
  show_device->add_option("name", args->device, "Device name (a serial, for a BRSKI device)")
      ->required();
  show_device->add_flag("--json", output.json, "Print JSON");
  bind(show_device, ShowDevice);
  CLI::App* zone = devices->add_subcommand("zone", "Put a device in a zone ('' takes it out)");
  AddSiteDir(*zone, args->dir);
  zone->add_option("name", args->device, "Device name")->required();
  zone->add_option("zone", args->zone, "Zone: letters, digits, '.', '_', '-'")->required();
  zone->add_flag("--json", output.json, "Print JSON");
  bind(zone, SetZone);
  for (bool release : {false, true}) {
    CLI::App* command =
        release ? devices->add_subcommand("release", "Let a quarantined device back on the network")
                : devices->add_subcommand("quarantine",
                                          "Cut a device off the network, at once, until released");
    AddSiteDir(*command, args->dir);
    command->add_option("name", args->device, "Device name")->required();
    if (!release) {
      command->add_option("--reason", args->reason, "Why, for the audit chain (1-200 characters)")
          ->required();
    }
    command
        ->add_option("--firewall", args->firewall,
                     "nftables (this namespace's kernel) or dry-run (render, do not load)")
        ->capture_default_str();
    command->add_flag("--json", output.json, "Print JSON");
    command->callback([&action, &output, args, release] {
      action = [&output, args, release] { return Quarantine(*args, output, release); };
    });
  }

  CLI::App* audit = app.add_subcommand("audit", "The tamper-evident audit chain");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand("verify", "Walk the hash chain; non-zero on any break");
  AddSiteDir(*verify, args->dir);
  verify->add_flag("--json", output.json, "Print JSON");
  bind(verify, AuditVerify);
  CLI::App* show = audit->add_subcommand("show", "Print audit events");
  AddSiteDir(*show, args->dir);
  show->add_option("--device", args->device, "Only this device (id or serial)");
  show->add_flag("--json", output.json, "Print JSON");
  bind(show, AuditShow);
}

}  // namespace concierge::app
