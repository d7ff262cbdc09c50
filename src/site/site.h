#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "exposure/analyzer.h"
#include "exposure/exposure_store.h"
#include "firewall/enforcer.h"
#include "firewall/firewall.h"
#include "mud/mud_manager.h"
#include "registrar/registrar_service.h"
#include "registrar/site_directory.h"
#include "registrar/site_ownership.h"
#include "registrar/site_store.h"

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

  // Mud opens the site's MUD state on first use (its store, fetcher, resolver and manager),
  // first taking in the MUD URLs of devices onboarded since it last looked.
  Result<mud::MudManager*> Mud();

  // After Mud() succeeded:
  mud::MudStore& mud_store() { return *mud_store_; }

  mud::MudManager& mud_manager() { return *mud_; }

  // SyncOnboarded gives every device onboarded with BRSKI the MUD URL its IDevID carries, and
  // forgets the devices that left.
  Status SyncOnboarded();

  // ExposureStore opens the exposure analyzer's knowledge in the site's database.
  Result<std::unique_ptr<exposure::ExposureStore>> OpenExposureStore();
  // FillExposureModel builds the analyzer's view of the site over a compiled policy: threats,
  // advisories, devices, the site's hosts, and a stand-in for unmanaged devices.
  Status FillExposureModel(exposure::ExposureStore& store, const mud::Policy& policy,
                           exposure::SiteModel& model);
  // TighteningAdjustment is what ApplyPolicy lays over the compiled policy: the analyzer's
  // blocks when tightening is on, nothing otherwise.
  Result<firewall::PolicyAdjustment> TighteningAdjustment();
  // ApplyPolicy compiles the site's policy, tightened when that is on, and applies it to the
  // firewall as one transaction.
  Result<firewall::ApplyReport> ApplyPolicy(firewall::Firewall& firewall, bool dry_run);

 private:
  Site(registrar::SiteDirectory directory, const Network& network, const Clock& clock,
       SiteOptions options);

  registrar::SiteDirectory directory_;
  Network network_;
  const Clock& clock_;
  SiteOptions options_;
  std::unique_ptr<registrar::SiteStore> store_;
  std::shared_ptr<registrar::MasaClient> masa_;
  std::unique_ptr<registrar::RegistrarService> registrar_;
  std::unique_ptr<registrar::SiteOwnership> ownership_;
  std::unique_ptr<mud::MudStore> mud_store_;
  std::unique_ptr<mud::Fetcher> fetcher_;
  std::unique_ptr<mud::Resolver> resolver_;
  std::unique_ptr<mud::MudManager> mud_;
};

}  // namespace concierge::site
