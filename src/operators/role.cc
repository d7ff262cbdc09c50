#include "operators/role.h"

#include <string>

namespace concierge::operators {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOwner:
      return "owner";
    case Role::kInstaller:
      return "installer";
    case Role::kTenant:
      return "tenant";
    case Role::kAuditor:
      return "auditor";
  }
  return "unknown";
}

Result<Role> ParseRole(std::string_view name) {
  for (Role role : {Role::kOwner, Role::kInstaller, Role::kTenant, Role::kAuditor}) {
    if (name == RoleName(role)) {
      return role;
    }
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "role \"" + std::string(name.substr(0, 32)) +
                       "\" is not one of owner, installer, tenant, auditor");
}

std::string_view PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kRead:
      return "read";
    case Permission::kReadSite:
      return "read the site";
    case Permission::kOperate:
      return "operate";
    case Permission::kOnboard:
      return "onboard";
    case Permission::kPolicy:
      return "policy";
    case Permission::kOwnership:
      return "ownership";
    case Permission::kOperators:
      return "operators";
  }
  return "unknown";
}

bool Allows(Role role, Permission permission) {
  switch (role) {
    case Role::kOwner:
      return true;
    case Role::kInstaller:
      return permission != Permission::kOwnership && permission != Permission::kOperators;
    case Role::kTenant:
      return permission == Permission::kRead || permission == Permission::kOperate;
    case Role::kAuditor:
      return permission == Permission::kRead || permission == Permission::kReadSite;
  }
  return false;
}

}  // namespace concierge::operators
