#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "crypto/certificate_builder.h"
#include "exposure/analyzer.h"
#include "exposure/exposure_store.h"
#include "firewall/enforcer.h"
#include "firewall/firewall.h"
#include "mud/mud_manager.h"
#include "operators/operator_desk.h"
#include "ownership/chain.h"
#include "registrar/registrar_service.h"
#include "registrar/site_directory.h"
#include "registrar/site_ownership.h"
#include "registrar/site_store.h"
#include "registry/device_registry.h"
#include "site/event_feed.h"
#include "site/registry_follower.h"
#include "store/audit_log.h"

namespace concierge::site {

// Network is how a site reaches outside itself: the makers' MASAs, the servers of MUD files,
// DNS. Production builds it over HTTPS and DNS (site/https_network.h); tests answer in memory.
struct Network {
  std::function<std::shared_ptr<registrar::MasaClient>(const registrar::SiteDirectory&,
                                                       registrar::SiteStore&)>
      masa;
  std::function<Result<std::unique_ptr<mud::Fetcher>>(const std::vector<crypto::Certificate>&)>
      mud_fetcher;
  std::function<std::unique_ptr<mud::Resolver>(const std::vector<std::string>& servers)> resolver;
};

struct SiteOptions {
  registrar::RegistrarPolicy registrar;
  // Extra anchors for MUD file servers, and whether a MUD signer's expired certificate is
  // judged at the signing time instead.
  std::vector<crypto::Certificate> mud_tls_anchors;
  bool trust_expired_mud_signers = false;
  // Where the project's data (the default threat catalogue) lives.
  std::filesystem::path data_dir;
};

// AuditVerdict is the state of an intact audit chain: its length and the hash at its head.
struct AuditVerdict {
  size_t events = 0;
  Bytes head;  // empty for an empty chain
};

// TenantDelegation is a delegation with its state at the site's clock: "scheduled" (before
// its start), "in force", "expired" or "revoked".
struct TenantDelegation {
  ownership::Delegation delegation;
  std::string state;
};

// DeviceDetail is everything the site holds about one device: its registry record, its
// onboarding with the registrar (when it came by BRSKI; the newest if it came more than once)
// and the tenants whose delegations in force name it.
struct DeviceDetail {
  registry::Device record;
  std::optional<registrar::DeviceRecord> onboarding;
  std::vector<std::string> tenants;
};

// DeviceOwnership is a device's ownership chain as its MASA keeps it, and this site's owner key
// to read it against.
struct DeviceOwnership {
  ownership::OwnershipChain chain;
  Bytes site_key;  // SubjectPublicKeyInfo DER

  bool OwnedByThisSite() const { return chain.OwnedBy(site_key); }
};

// ExposureView is the analyzer's view of the site: the compiled policy, the model over it, and
// the tightening settings. Heap-held and never moved, as the model points into the policy.
struct ExposureView {
  std::unique_ptr<exposure::ExposureStore> store;
  mud::Policy policy;
  exposure::SiteModel model;
  exposure::TighteningSettings settings;
};

// Site is one site opened for work, wired once for every caller (the CLI, the site
// controller, the lab and the tests): the site directory and store, the registrar and its MASA
// client, the ownership desk, the MUD manager, the exposure analyzer's knowledge, and the use
// cases that join them. It prints nothing; callers render what it returns.
class Site {
 public:
  static Result<std::unique_ptr<Site>> Open(const std::filesystem::path& dir,
                                            const Network& network, const Clock& clock,
                                            Random& random, SiteOptions options = {});
  ~Site();

  const registrar::SiteDirectory& directory() const { return directory_; }

  const Clock& clock() const { return clock_; }

  registrar::SiteStore& store() { return *store_; }

  registrar::MasaClient& masa() { return *masa_; }

  registrar::RegistrarService& registrar() { return *registrar_; }

  registrar::SiteOwnership& ownership() { return *ownership_; }

  // Registry is the site's one record of each device, which the MUD manager and the exposure
  // analyzer read; it first catches up with what the registrar changed since the last look.
  Result<registry::DeviceRegistry*> Registry();

  // Operators opens, on first use, the desk of the site's operators: their roles, one-time
  // codes and sessions.
  Result<operators::OperatorDesk*> Operators();

  // IssueOperatorCertificate (operator_use_cases.cc) gives an operator's scripts a client
  // certificate for the management API, from the domain CA, with a new P-256 key; the one
  // issued before stops working.
  Result<crypto::KeyAndCertificate> IssueOperatorCertificate(const std::string& name,
                                                             std::chrono::seconds validity,
                                                             const std::string& actor);

  // Events hears every change this site's stores commit in this process, as audit records.
  EventFeed& events() { return events_; }

  // Makers and devices (use_cases.cc). TrustMaker lets a maker's devices join, at once
  // or after an operator's approval; the certificate must be a CA's.
  Result<int64_t> TrustMaker(const std::string& name, const crypto::Certificate& ca,
                             registrar::Approval approval);
  // Devices lists the devices the registrar knows, only those in state when it is not empty.
  Result<std::vector<registrar::DeviceRecord>> Devices(std::string_view state = "");
  Status ApproveDevice(int64_t device_id, const std::string& actor);
  // DescribeDevice finds a device by its registry name (a serial, for a device onboarded with
  // BRSKI); NotFound when the registry holds no such device.
  Result<DeviceDetail> DescribeDevice(const std::string& name);
  // SetZone puts a device in an operator's zone, or takes it out with "".
  Status SetZone(const std::string& name, const std::string& zone);

  // The audit chain (use_cases.cc). DeviceAuditTrail takes a device's serial or its id
  // from Devices, or the name of a device only seen on the network; NotFound when nothing
  // about it was ever recorded.
  Result<std::vector<store::AuditRecord>> AuditEvents();
  Result<std::vector<store::AuditRecord>> DeviceAuditTrail(std::string_view device);
  // VerifyAudit walks the whole chain; the error names the first broken record.
  Result<AuditVerdict> VerifyAudit();

  // Tenants (use_cases.cc): time-bound delegations of devices to a tenant's key.
  Result<int64_t> GrantTenant(const std::string& tenant, const Bytes& tenant_key,
                              const std::vector<std::string>& serials, SystemTime from,
                              SystemTime until, const std::string& actor = "");
  Status RevokeTenant(int64_t delegation_id, const std::string& actor = "");
  Result<std::vector<TenantDelegation>> Delegations();

  // OwnershipOf fetches the ownership chain of an enrolled device from its MASA (use_cases.cc).
  Result<DeviceOwnership> OwnershipOf(const std::string& serial);

  // Mud opens the site's MUD state on first use (its store, fetcher, resolver and manager),
  // first taking in the MUD URLs of devices onboarded since it last looked.
  Result<mud::MudManager*> Mud();

  // After Mud() succeeded:
  mud::MudStore& mud_store() { return *mud_store_; }

  mud::MudManager& mud_manager() { return *mud_; }

  // SyncOnboarded records in the registry every device onboarded with BRSKI that holds an
  // LDevID, and forgets the devices that left.
  Status SyncOnboarded();

  // ExposureStore opens the exposure analyzer's knowledge in the site's database; its changes
  // reach events(), so it must not outlive the site.
  Result<std::unique_ptr<exposure::ExposureStore>> OpenExposureStore();
  // FillExposureModel builds the analyzer's view of the site over a compiled policy: threats,
  // advisories, devices, the site's hosts, and a stand-in for unmanaged devices.
  Status FillExposureModel(exposure::ExposureStore& store, const mud::Policy& policy,
                           exposure::SiteModel& model);
  // OpenExposureView compiles the site's policy and builds the analyzer's model over it, for
  // exposure::Analyze and exposure::Tighten (exposure_use_cases.cc). Opens the MUD state.
  Result<std::unique_ptr<ExposureView>> OpenExposureView();
  // SetTightening saves whether the analyzer's blocks are laid over the policy (and which
  // device classes are quarantined despite a declared flow), then applies the policy.
  Result<firewall::ApplyReport> SetTightening(const exposure::TighteningSettings& settings,
                                              const Json& detail, firewall::Firewall& firewall);
  // What the operator tells the analyzer: weaknesses marked on a device, its software, the
  // threat catalogue and advisories (each checked before it is stored).
  Status MarkWeakness(const std::string& device, const std::string& weakness);
  Status UnmarkWeakness(const std::string& device, const std::string& weakness);
  Status SetSoftware(const std::string& device, const std::string& package,
                     const std::string& version);
  Result<size_t> StoreThreatCatalogue(const std::string& body);
  // StoreAdvisories keeps the OSV documents given by name (each an advisory or an array of
  // them) as the site's advisories, replacing those stored; returns how many each held.
  Result<std::vector<size_t>> StoreAdvisories(
      const std::vector<std::pair<std::string, std::string>>& named_documents);

  // TighteningAdjustment is what ApplyPolicy lays over the compiled policy: the analyzer's
  // blocks when tightening is on, nothing otherwise.
  Result<firewall::PolicyAdjustment> TighteningAdjustment();
  // ApplyPolicy compiles the site's policy, tightened when that is on, with the quarantined
  // devices cut off, and applies it to the firewall as one transaction.
  Result<firewall::ApplyReport> ApplyPolicy(firewall::Firewall& firewall, bool dry_run,
                                            const std::string& actor = "");
  // PreviewPolicy is ApplyPolicy with nothing applied and no firewall asked: what would
  // change (the report's diff) and the ruleset that would go in.
  Result<firewall::ApplyReport> PreviewPolicy();

  // Quarantine (quarantine_use_cases.cc) cuts a device off at once: the registry records who
  // did it and why, and the policy goes to the firewall with the device's addresses dropped.
  // If the firewall refuses, the quarantine stays recorded and the error says so.
  Result<firewall::ApplyReport> Quarantine(const std::string& name, const std::string& reason,
                                           const std::string& actor, firewall::Firewall& firewall);
  Result<firewall::ApplyReport> Release(const std::string& name, const std::string& actor,
                                        firewall::Firewall& firewall);

 private:
  Site(registrar::SiteDirectory directory, const Network& network, const Clock& clock,
       Random& random, SiteOptions options);

  // QuarantineAdjustment lays the registry's quarantined devices over a compiled policy.
  Result<firewall::PolicyAdjustment> QuarantineAdjustment();
  // SyncDevice records one registrar device in the registry, or removes it once it left.
  Status SyncDevice(const registrar::DeviceRecord& device);
  Status FollowRecord(const store::AuditRecord& record);

  registrar::SiteDirectory directory_;
  Network network_;
  const Clock& clock_;
  Random& random_;
  SiteOptions options_;
  // Before the stores, so it outlives them: they tell it of every commit.
  EventFeed events_;
  std::unique_ptr<registrar::SiteStore> store_;
  std::shared_ptr<registrar::MasaClient> masa_;
  std::unique_ptr<registrar::RegistrarService> registrar_;
  std::unique_ptr<registrar::SiteOwnership> ownership_;
  std::unique_ptr<registry::DeviceRegistry> registry_;
  std::unique_ptr<mud::MudStore> mud_store_;
  std::unique_ptr<mud::Fetcher> fetcher_;
  std::unique_ptr<mud::Resolver> resolver_;
  std::unique_ptr<mud::MudManager> mud_;
  std::unique_ptr<operators::OperatorDesk> operators_;
  // Hears the registrar's changes through events_ and applies them to registry_.
  std::unique_ptr<RegistryFollower> follower_;
  uint64_t follower_subscription_ = 0;
};

}  // namespace concierge::site
