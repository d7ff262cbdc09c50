// Quarantine and release: an operator cuts a device off the network, at once, and lets it back.
#include "site/site.h"

namespace concierge::site {

Result<firewall::PolicyAdjustment> Site::QuarantineAdjustment() {
  ASSIGN_OR_RETURN(registry::DeviceRegistry * registry, Registry());
  ASSIGN_OR_RETURN(std::vector<registry::Device> devices, registry->Quarantined());
  std::vector<mud::Quarantine> quarantines;
  for (const registry::Device& device : devices) {
    mud::Quarantine quarantine{device.name, device.quarantine_reason, {}};
    for (const std::string& text : device.addresses) {
      ASSIGN_OR_RETURN_CTX(IpNetwork address, IpNetwork::Parse(text), "device " + device.name);
      quarantine.addresses.push_back(address);
    }
    quarantines.push_back(std::move(quarantine));
  }
  return firewall::PolicyAdjustment(
      [quarantines = std::move(quarantines)](mud::Policy& policy) -> Status {
        policy.quarantines = quarantines;
        return OkStatus();
      });
}

Result<firewall::ApplyReport> Site::Quarantine(const std::string& name, const std::string& reason,
                                               const std::string& actor,
                                               firewall::Firewall& firewall) {
  ASSIGN_OR_RETURN(registry::DeviceRegistry * registry, Registry());
  RETURN_IF_ERROR(registry->Quarantine(name, reason, actor));
  ASSIGN_OR_RETURN_CTX(firewall::ApplyReport report,
                       ApplyPolicy(firewall, /*dry_run=*/false, actor),
                       "device " + name +
                           " is recorded as quarantined, but its policy is not in"
                           " force");
  return report;
}

Result<firewall::ApplyReport> Site::Release(const std::string& name, const std::string& actor,
                                            firewall::Firewall& firewall) {
  ASSIGN_OR_RETURN(registry::DeviceRegistry * registry, Registry());
  RETURN_IF_ERROR(registry->Release(name, actor));
  ASSIGN_OR_RETURN_CTX(firewall::ApplyReport report,
                       ApplyPolicy(firewall, /*dry_run=*/false, actor),
                       "device " + name +
                           " is recorded as released, but the policy in force"
                           " still cuts it off");
  return report;
}

}  // namespace concierge::site
