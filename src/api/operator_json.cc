#include "api/operator_json.h"

namespace concierge::api {

Json OperatorJson(const operators::Operator& holder, SystemTime now) {
  return Json{
      {"name", holder.name},
      {"role", operators::RoleName(holder.role)},
      {"tenant", holder.tenant},
      {"state", holder.State(now)},
      {"sessions", holder.sessions},
      {"last_sign_in",
       holder.signed_in_at == 0 ? "" : FormatRfc3339(FromUnixSeconds(holder.signed_in_at))}};
}

Json InvitationJson(const operators::Invitation& invitation) {
  return Json{{"name", invitation.holder.name},
              {"role", operators::RoleName(invitation.holder.role)},
              {"tenant", invitation.holder.tenant},
              {"code", invitation.code},
              {"code_expires", FormatRfc3339(invitation.expires_at)}};
}

}  // namespace concierge::api
