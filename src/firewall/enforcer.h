#pragma once

#include <functional>
#include <string>
#include <vector>

#include "firewall/firewall.h"
#include "firewall/nft_ruleset.h"
#include "mud/mud_manager.h"

namespace concierge::firewall {

struct ApplyReport {
  bool changed = false;  // false: the ruleset in force already was this one
  bool dry_run = false;
  std::string sha256;
  size_t devices = 0;
  size_t profiles = 0;
  size_t rules = 0;
  std::vector<std::pair<std::string, std::string>> unmanaged;  // device, why
  std::string diff;     // against the ruleset in force, as DiffRulesets writes it
  std::string ruleset;  // what was applied (or, in a dry run, would be)
};

// Enforce compiles the site's policy and makes it the firewall's, as one transaction, unless
// the same ruleset is already in force (re-applying is a no-op, and no audit event). With
// dry_run the kernel only checks the ruleset. A refused ruleset leaves the old one in force.
// `adjust`, when given, changes the compiled policy first (the exposure analyzer adds its
// blocks there), so MUD policy and blocks go in as one transaction. `actor`, when given, names
// who asked in the audit event.
using PolicyAdjustment = std::function<Status(mud::Policy&)>;
Result<ApplyReport> Enforce(mud::MudManager& manager, mud::MudStore& store, Firewall& firewall,
                            bool dry_run, const Clock& clock,
                            const PolicyAdjustment& adjust = nullptr,
                            const std::string& actor = "");

// DiffRulesets lists the lines only in `before` ("-") or only in `after` ("+"), each under
// the set, map or chain it belongs to; "" when they hold the same lines.
std::string DiffRulesets(const std::string& before, const std::string& after);

}  // namespace concierge::firewall
