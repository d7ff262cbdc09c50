#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "firewall/enforcer.h"
#include "mud/mud_manager.h"

namespace concierge::app {

// Site bundles what the MUD commands open: the store, and the manager over real HTTPS and DNS.
struct Site {
  SystemClock clock;
  std::filesystem::path database;
  std::unique_ptr<mud::MudStore> store;
  std::unique_ptr<mud::Fetcher> fetcher;
  std::unique_ptr<mud::Resolver> resolver;
  std::unique_ptr<mud::MudManager> manager;
};

// OpenSite opens a site's MUD state, first taking in the MUD URLs of devices onboarded since.
Result<std::unique_ptr<Site>> OpenSite(const std::string& directory,
                                       const std::vector<std::string>& tls_cas,
                                       bool trust_expired_signers);

// EnforceNow applies the site's policy (with the exposure analyzer's blocks, when tightening
// is on) as one transaction.
Result<firewall::ApplyReport> EnforceNow(Site& site, bool dry_run);

// TighteningAdjustment is what EnforceNow lays over the compiled policy: the analyzer's blocks
// when tightening is on, nothing otherwise.
Result<firewall::PolicyAdjustment> TighteningAdjustment(Site& site);

}  // namespace concierge::app
