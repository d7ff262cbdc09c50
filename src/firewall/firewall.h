#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace concierge::firewall {

// Firewall is where a rendered policy is enforced. Implementations: nftables through
// libnftables (OpenNftables), and a dry run that keeps the ruleset without loading it
// (OpenDryRun), for a controller that does not route its devices' traffic and for the demo.
class Firewall {
 public:
  virtual ~Firewall() = default;

  // Replace makes the concierge table exactly `ruleset` in one transaction: packets meet the
  // old table or the new one, never a mix, and on failure the old table stays in force.
  virtual Status Replace(std::string_view ruleset) = 0;
  // Check asks the kernel whether Replace would succeed, changing nothing.
  virtual Status Check(std::string_view ruleset) = 0;
  // Current is the concierge table as the kernel lists it, "" when there is none.
  virtual Result<std::string> Current() = 0;
  // Kind says where the rules go, "nftables" or "dry-run", for operators and the audit chain.
  virtual std::string_view Kind() const = 0;
};

// OpenNftables talks to the kernel of the calling process's network namespace; using it needs
// CAP_NET_ADMIN, and errors say so.
Result<std::unique_ptr<Firewall>> OpenNftables();

// OpenDryRun keeps the last ruleset in memory and enforces nothing: Check accepts any text, and
// Current returns what Replace was given.
std::unique_ptr<Firewall> OpenDryRun();

}  // namespace concierge::firewall
