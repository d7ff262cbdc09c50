// The audit chain and the site's operators.
#include "api/call.h"
#include "api/operator_json.h"
#include "common/bytes.h"
#include "store/audit_log.h"

namespace concierge::api {
namespace {

constexpr size_t kMaxEvents = 1000;

}  // namespace

Result<http::HttpResponse> ManagementApi::ListAudit(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {"subject", "offset", "limit"}));
  ASSIGN_OR_RETURN(size_t offset, QueryNumber(call.query, "offset", 0, 100'000'000));
  ASSIGN_OR_RETURN(size_t limit, QueryNumber(call.query, "limit", 100, kMaxEvents));
  auto subject = call.query.find("subject");
  std::optional<std::vector<std::string>> within;
  if (operators::ScopedToDelegations(call.session->holder.role)) {
    ASSIGN_OR_RETURN(auto devices, TenantDevices(call.session->holder.tenant));
    within.emplace();
    for (const std::string& device : devices) {
      within->push_back(store::DeviceSubject(device));
    }
  }
  // Newest first, paged in the database: what an operator looks for is what just happened.
  ASSIGN_OR_RETURN(store::AuditPage page,
                   site_.store().ReadAuditPage(subject == call.query.end() ? "" : subject->second,
                                               within, offset, limit));
  Json events = Json::array();
  for (const store::AuditRecord& record : page.records) {
    events.push_back(store::AuditRecordToJson(record));
  }
  return JsonResponse(
      200, Json{{"total", page.total}, {"offset", offset}, {"limit", limit}, {"events", events}});
}

Result<http::HttpResponse> ManagementApi::VerifyAudit(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  auto verdict = site_.VerifyAudit();
  if (!verdict) {
    if (verdict.error().code() != ErrorCode::kSecurity) {
      return std::unexpected(verdict.error());
    }
    return JsonResponse(200, Json{{"intact", false}, {"detail", verdict.error().message()}});
  }
  return JsonResponse(
      200, Json{{"intact", true}, {"events", verdict->events}, {"head", HexEncode(verdict->head)}});
}

Result<http::HttpResponse> ManagementApi::ListOperators(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  ASSIGN_OR_RETURN(auto holders, desk_.List());
  SystemTime now = site_.clock().Now();
  Json list = Json::array();
  for (const operators::Operator& holder : holders) {
    list.push_back(
        {{"name", holder.name},
         {"role", operators::RoleName(holder.role)},
         {"tenant", holder.tenant},
         {"state", holder.State(now)},
         {"sessions", holder.sessions},
         {"last_sign_in",
          holder.signed_in_at == 0 ? "" : FormatRfc3339(FromUnixSeconds(holder.signed_in_at))}});
  }
  return JsonResponse(200, Json{{"operators", list}});
}

Result<http::HttpResponse> ManagementApi::AddOperator(Call& call) {
  ASSIGN_OR_RETURN(Json body, ReadBody(call.request, {"name", "role", "tenant"}));
  for (std::string_view key : {"name", "role", "tenant"}) {
    if (body.contains(key) && !body[key].is_string()) {
      return MakeError(ErrorCode::kInvalidArgument, "\"" + std::string(key) + "\" must be text");
    }
  }
  ASSIGN_OR_RETURN(operators::Role role, operators::ParseRole(body.value("role", "")));
  ASSIGN_OR_RETURN(auto invitation,
                   desk_.Add(body.value("name", ""), role, body.value("tenant", ""), call.Actor()));
  return JsonResponse(201, InvitationJson(invitation));
}

Result<http::HttpResponse> ManagementApi::RevokeOperator(Call& call) {
  const std::string& name = call.params["name"];
  if (name == call.session->holder.name) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "an operator cannot revoke itself; sign out instead");
  }
  RETURN_IF_ERROR(desk_.Revoke(name, call.Actor()));
  return JsonResponse(200, Json{{"revoked", name}});
}

}  // namespace concierge::api
