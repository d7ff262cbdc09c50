#include "site/site.h"

#include <set>

#include "common/files.h"
#include "common/ip_network.h"
#include "metrics/metrics.h"
#include "store/open_database.h"

namespace concierge::site {
namespace {

bool IsLoopback(const std::string& address) {
  auto parsed = IpNetwork::Parse(address);
  if (!parsed) {
    return false;
  }
  for (std::string_view loopback : {"127.0.0.0/8", "::1/128"}) {
    if (IpNetwork::Parse(loopback)->Contains(*parsed)) {
      return true;
    }
  }
  return false;
}

constexpr std::string_view kInternetAddress = "203.0.113.10";  // stands for any outside host

// Knowledge the analyzer reads: the stored catalogue, or else the project's Mirai catalogue.
Result<exposure::ThreatCatalogue> LoadThreats(exposure::ExposureStore& store,
                                              const std::filesystem::path& data_dir) {
  ASSIGN_OR_RETURN(auto stored, store.FindKnowledge("threats"));
  std::string origin = "stored threat catalogue";
  if (!stored) {
    std::filesystem::path fallback = data_dir / "threats" / "mirai.json";
    ASSIGN_OR_RETURN_CTX(
        stored, ReadFile(fallback),
        "no threat catalogue stored (concierge exposure knowledge --threats FILE)");
    origin = fallback.string();
  }
  ASSIGN_OR_RETURN_CTX(auto catalogue, exposure::ParseThreatCatalogue(*stored), origin);
  return catalogue;
}

}  // namespace

Site::Site(registrar::SiteDirectory directory, const Network& network, const Clock& clock,
           Random& random, SiteOptions options)
    : directory_(std::move(directory)),
      network_(network),
      clock_(clock),
      random_(random),
      options_(std::move(options)) {}

Site::~Site() {
  events_.Unsubscribe(follower_subscription_);
  // A voucher request still waiting for its MASA would call back into the registrar below.
  if (masa_) {
    masa_->DropCalls();
  }
}

Result<std::unique_ptr<Site>> Site::Open(const std::filesystem::path& dir, const Network& network,
                                         const Clock& clock, Random& random, SiteOptions options) {
  ASSIGN_OR_RETURN(auto directory, registrar::LoadSiteDirectory(dir));
  std::unique_ptr<Site> site(
      new Site(std::move(directory), network, clock, random, std::move(options)));
  ASSIGN_OR_RETURN(site->store_,
                   registrar::SiteStore::Open(site->directory_.DatabaseLocation(), clock));
  site->store_->ListenToAudit(&site->events_);
  ASSIGN_OR_RETURN(site->registry_,
                   registry::DeviceRegistry::Open(site->directory_.DatabaseLocation(), clock));
  site->registry_->ListenToAudit(&site->events_);
  Site* raw = site.get();
  site->follower_ = std::make_unique<RegistryFollower>(
      [raw](const store::AuditRecord& record) { return raw->FollowRecord(record); },
      [raw] { return raw->SyncOnboarded(); });
  site->follower_subscription_ = site->events_.Subscribe(
      [raw](const store::AuditRecord& record) { raw->follower_->Queue(record); });
  site->masa_ = network.masa(site->directory_, *site->store_);
  site->registrar_ = std::make_unique<registrar::RegistrarService>(
      *site->store_, *site->masa_, clock, random, site->directory_.identity,
      site->options_.registrar);
  site->ownership_ = std::make_unique<registrar::SiteOwnership>(*site->store_, *site->masa_,
                                                                *site->registrar_, clock);
  return site;
}

Result<operators::OperatorDesk*> Site::Operators() {
  if (!operators_) {
    ASSIGN_OR_RETURN(auto db, store::OpenDatabase(directory_.DatabaseLocation()));
    ASSIGN_OR_RETURN(operators_, operators::OperatorDesk::Open(std::move(db), clock_, random_));
    operators_->ListenToAudit(&events_);
  }
  return operators_.get();
}

Result<mud::MudManager*> Site::Mud() {
  if (mud_) {
    return mud_.get();
  }
  ASSIGN_OR_RETURN(mud_store_, mud::MudStore::Open(directory_.DatabaseLocation(), clock_));
  mud_store_->ListenToAudit(&events_);
  RETURN_IF_ERROR(Registry());
  ASSIGN_OR_RETURN(std::vector<crypto::Certificate> anchors, mud_store_->AllSignerAnchors());
  anchors.insert(anchors.end(), options_.mud_tls_anchors.begin(), options_.mud_tls_anchors.end());
  ASSIGN_OR_RETURN(fetcher_, network_.mud_fetcher(anchors));
  ASSIGN_OR_RETURN(auto facts, mud_store_->ListFacts());
  std::vector<std::string> servers;
  for (const auto& [kind, key, value] : facts) {
    if (kind == mud::kFactDnsServer) {
      servers.push_back(value);
    }
  }
  resolver_ = network_.resolver(servers);
  mud_ = std::make_unique<mud::MudManager>(*mud_store_, *registry_, *fetcher_, *resolver_, clock_,
                                           options_.trust_expired_mud_signers
                                               ? mud::ExpiredSignerPolicy::kTrustSigningTime
                                               : mud::ExpiredSignerPolicy::kRefuse);
  return mud_.get();
}

Status Site::SyncDevice(const registrar::DeviceRecord& device) {
  if (!device.Active()) {
    return registry_->Remove(device.serial);
  }
  if (!device.HoldsLdevid()) {
    return OkStatus();  // not (yet) a member of the site
  }
  // A loopback address says only that the device ran on this host (a lab, the demo): it is not
  // where the device is on the site's network.
  RETURN_IF_ERROR(registry_->Onboarded(
      {device.serial, device.maker_name, directory_.identity.site_name, device.mud_url,
       IsLoopback(device.address) ? std::string() : device.address}));
  return registry_->SetDeparture(device.serial, device.departure);
}

Status Site::SyncOnboarded() {
  ASSIGN_OR_RETURN(auto devices, store_->ListDevices());
  for (const auto& device : devices) {
    RETURN_IF_ERROR(SyncDevice(device));
  }
  return OkStatus();
}

Status Site::FollowRecord(const store::AuditRecord& record) {
  ASSIGN_OR_RETURN(Json detail, ParseJsonObject(record.detail, "audit record " + record.kind));
  std::string serial = detail.value("serial", "");
  if (record.kind == "transfer.exported" || record.kind == "device.retiring") {
    // On its way out; serial is the device's.
    ASSIGN_OR_RETURN(auto known, registry_->Find(serial));
    if (!known) {
      return OkStatus();
    }
    ASSIGN_OR_RETURN(auto device, store_->FindNewestDevice(known->maker, serial));
    return device ? SyncDevice(*device) : OkStatus();
  }
  if (record.kind != "certificate.issued") {
    return registry_->Remove(serial);  // it left; serial is the device's
  }
  ASSIGN_OR_RETURN(auto device, store_->FindDeviceByCertificate(serial));
  return device ? SyncDevice(*device) : OkStatus();
}

Result<registry::DeviceRegistry*> Site::Registry() {
  RETURN_IF_ERROR_CTX(follower_->CatchUp(), "bringing the device registry up to date");
  return registry_.get();
}

Result<std::unique_ptr<exposure::ExposureStore>> Site::OpenExposureStore() {
  ASSIGN_OR_RETURN(auto store,
                   exposure::ExposureStore::Open(directory_.DatabaseLocation(), clock_));
  store->ListenToAudit(&events_);
  return store;
}

Status Site::FillExposureModel(exposure::ExposureStore& store, const mud::Policy& policy,
                               exposure::SiteModel& model) {
  model.policy = &policy;
  ASSIGN_OR_RETURN(model.threats, LoadThreats(store, options_.data_dir));
  ASSIGN_OR_RETURN(auto advisories, store.FindKnowledge("advisories"));
  if (advisories) {
    ASSIGN_OR_RETURN_CTX(model.advisories, exposure::ParseOsvAdvisories(*advisories),
                         "stored advisories");
  }
  // The analyzer hears of the devices something is known about: weaknesses or software.
  ASSIGN_OR_RETURN(auto weaknesses, store.LoadWeaknesses());
  ASSIGN_OR_RETURN(registry::DeviceRegistry * registry, Registry());
  ASSIGN_OR_RETURN(auto devices, registry->List());
  for (registry::Device& device : devices) {
    auto marked = weaknesses.find(device.name);
    if (device.software.empty() && marked == weaknesses.end()) {
      continue;
    }
    exposure::DeviceFacts facts;
    facts.device = device.name;
    facts.maker = device.maker;
    facts.software.insert(device.software.begin(), device.software.end());
    if (marked != weaknesses.end()) {
      facts.weaknesses = std::move(marked->second);
      weaknesses.erase(marked);
    }
    model.devices.push_back(std::move(facts));
  }
  // A weakness may be marked on a name the registry does not hold (yet).
  for (auto& [name, marked] : weaknesses) {
    exposure::DeviceFacts facts;
    facts.device = name;
    facts.weaknesses = std::move(marked);
    model.devices.push_back(std::move(facts));
  }
  std::ranges::sort(model.devices, {}, &exposure::DeviceFacts::device);
  RETURN_IF_ERROR(Mud());
  ASSIGN_OR_RETURN(mud::SiteFacts facts, mud_store_->LoadSiteFacts());
  model.hosts.push_back(
      {"internet", IpNetwork::Parse(kInternetAddress).value_or(IpNetwork{}), true});
  std::set<IpNetwork> seen;
  for (const auto& [uri, addresses] : facts.controllers) {
    for (const std::string& text : addresses) {
      auto address = IpNetwork::Parse(text);
      if (!address || !seen.insert(*address).second) {
        continue;
      }
      // The gateway controller is the site's edge, where the INXU catalogue puts the botnet.
      bool edge =
          uri == "urn:ietf:params:mud:gateway" &&
          std::ranges::find(model.hosts, "edge", &exposure::Host::name) == model.hosts.end();
      model.hosts.push_back({edge ? "edge" : "controller " + text, *address, false});
    }
  }
  // A device nobody manages, somewhere on each local network: it may send anything.
  for (const std::string& text : facts.local_networks) {
    auto network = IpNetwork::Parse(text);
    if (network && network->family == IpFamily::kIpv4 && network->prefix <= 30) {
      IpNetwork unmanaged = *network;
      unmanaged.prefix = 32;
      uint32_t host = (uint32_t{unmanaged.bytes[2]} << 8 | unmanaged.bytes[3]) + 250;
      unmanaged.bytes[2] = static_cast<uint8_t>(host >> 8);
      unmanaged.bytes[3] = static_cast<uint8_t>(host & 255);
      bool bound = std::ranges::any_of(policy.bindings, [&](const mud::Binding& binding) {
        return std::ranges::find(binding.addresses, unmanaged) != binding.addresses.end();
      });
      if (!bound && network->Contains(unmanaged)) {
        model.hosts.push_back({"unmanaged on " + text, unmanaged, false});
      }
    }
  }
  return OkStatus();
}

Result<firewall::PolicyAdjustment> Site::TighteningAdjustment() {
  ASSIGN_OR_RETURN(std::shared_ptr<exposure::ExposureStore> store, OpenExposureStore());
  ASSIGN_OR_RETURN(exposure::TighteningSettings settings, store->LoadSettings());
  if (!settings.enabled) {
    return firewall::PolicyAdjustment();
  }
  return firewall::PolicyAdjustment([this, store, settings](mud::Policy& policy) -> Status {
    exposure::SiteModel model;
    RETURN_IF_ERROR(FillExposureModel(*store, policy, model));
    ASSIGN_OR_RETURN(exposure::Analysis analysis, exposure::Analyze(model));
    ASSIGN_OR_RETURN(exposure::Tightening tightening,
                     exposure::Tighten(model, analysis, settings.quarantine));
    policy.blocks = std::move(tightening.blocks);
    return OkStatus();
  });
}

Result<firewall::ApplyReport> Site::ApplyPolicy(firewall::Firewall& firewall, bool dry_run,
                                                const std::string& actor) {
  ASSIGN_OR_RETURN(mud::MudManager * manager, Mud());
  ASSIGN_OR_RETURN(firewall::PolicyAdjustment tighten, TighteningAdjustment());
  ASSIGN_OR_RETURN(firewall::PolicyAdjustment quarantine, QuarantineAdjustment());
  auto adjust = [&tighten, &quarantine](mud::Policy& policy) -> Status {
    if (tighten) {
      RETURN_IF_ERROR(tighten(policy));
    }
    return quarantine(policy);
  };
  auto applied = firewall::Enforce(*manager, *mud_store_, firewall, dry_run, clock_, adjust, actor);
  if (!dry_run) {
    std::string result = !applied ? "refused" : applied->changed ? "changed" : "unchanged";
    metrics::Global().Count("concierge_policy_applies_total",
                            "MUD policy applied to the firewall, by result", {{"result", result}});
  }
  return applied;
}

Result<firewall::ApplyReport> Site::PreviewPolicy() {
  std::unique_ptr<firewall::Firewall> nowhere = firewall::OpenDryRun();
  return ApplyPolicy(*nowhere, /*dry_run=*/true);
}

}  // namespace concierge::site
