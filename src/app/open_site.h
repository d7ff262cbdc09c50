#pragma once

#include <memory>
#include <string>
#include <vector>

#include "firewall/enforcer.h"
#include "site/site.h"

namespace concierge::app {

// OpenSite opens a site directory for a command or the site controller, on the production
// network (site/https_network.h), the system clock and the process's randomness.
Result<std::unique_ptr<site::Site>> OpenSite(const std::string& dir,
                                             site::SiteOptions options = {});

// OpenPolicySite also opens the site's MUD state, for the MUD, policy and exposure commands:
// tls_cas are extra PEM files of anchors for MUD file servers.
Result<std::unique_ptr<site::Site>> OpenPolicySite(const std::string& dir,
                                                   const std::vector<std::string>& tls_cas,
                                                   bool trust_expired_signers);

// OpenFirewall opens where the policy goes: "nftables" (this network namespace's kernel) or
// "dry-run" (rendered and kept, never loaded).
Result<std::unique_ptr<firewall::Firewall>> OpenFirewall(std::string_view kind);

// EnforceNow applies the site's policy to this network namespace's nftables.
Result<firewall::ApplyReport> EnforceNow(site::Site& site, bool dry_run);

}  // namespace concierge::app
