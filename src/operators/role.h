#pragma once

#include <string_view>

#include "common/error.h"

namespace concierge::operators {

// Role is what an operator is to the site. An owner may do everything; an installer brings
// devices in and sets their policy but changes no ownership; a tenant sees and operates only
// the devices delegated to it; an auditor reads everything and changes nothing.
enum class Role { kOwner, kInstaller, kTenant, kAuditor };

std::string_view RoleName(Role role);
Result<Role> ParseRole(std::string_view name);

// Permission is one kind of thing an operator may ask for; every management route names the
// one it needs.
enum class Permission {
  kRead,       // devices, certificates, audit (a tenant: its devices only)
  kReadSite,   // the site as a whole: the ruleset in force, the exposure graph (not a tenant)
  kOperate,    // quarantine and release a device (a tenant: its delegated devices only)
  kOnboard,    // approve devices, trust makers, set zones
  kPolicy,     // MUD files, policy apply, exposure tightening
  kOwnership,  // transfers, tenants and delegations, decommissioning
  kOperators,  // add, reissue and revoke operators
};

std::string_view PermissionName(Permission permission);

bool Allows(Role role, Permission permission);

// ScopedToDelegations says whether a role sees only the devices delegated to its tenant.
inline bool ScopedToDelegations(Role role) {
  return role == Role::kTenant;
}

}  // namespace concierge::operators
