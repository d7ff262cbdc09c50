// Signing in with a one-time code, the session, signing out, and the API's own description.
#include "api/call.h"
#include "api/openapi_document.h"
#include "api/problem.h"

namespace concierge::api {
namespace {

Json SessionJson(const operators::Session& session) {
  const operators::Operator& holder = session.holder;
  return Json{{"operator",
               {{"name", holder.name},
                {"role", operators::RoleName(holder.role)},
                {"tenant", holder.tenant}}},
              {"csrf_token", operators::CsrfToken(session.token)},
              {"expires", FormatRfc3339(session.expires_at)}};
}

// The cookie is for this origin's HTTPS pages only, never readable by a script, never sent
// with a request another site starts.
std::string Cookie(std::string_view value, int64_t max_age) {
  return std::string(kSessionCookie) + "=" + std::string(value) +
         "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
}

}  // namespace

Result<http::HttpResponse> ManagementApi::SignIn(Call& call) {
  ASSIGN_OR_RETURN(Json body, ReadBody(call.request, {"code"}));
  if (!body.contains("code") || !body["code"].is_string()) {
    return MakeError(ErrorCode::kInvalidArgument, "\"code\" (the one-time code) is required");
  }
  // A new session every time, whatever cookie came with the request: no session fixation.
  ASSIGN_OR_RETURN(operators::Session session,
                   desk_.SignIn(body["code"].get<std::string>(), call.source));
  http::HttpResponse response = JsonResponse(201, SessionJson(session));
  int64_t lifetime = ToUnixSeconds(session.expires_at) - ToUnixSeconds(site_.clock().Now());
  response.headers["set-cookie"] = Cookie(session.token, lifetime);
  return response;
}

Result<http::HttpResponse> ManagementApi::WhoAmI(Call& call) {
  return JsonResponse(200, SessionJson(*call.session));
}

Result<http::HttpResponse> ManagementApi::SignOut(Call& call) {
  RETURN_IF_ERROR(desk_.SignOut(call.session->token));
  http::HttpResponse response = http::MakeResponse(204, "", "");
  response.headers.erase("content-type");
  AddSecurityHeaders(response);
  response.headers["set-cookie"] = Cookie("", 0);
  return response;
}

Result<http::HttpResponse> ManagementApi::Describe(Call& /*call*/) {
  http::HttpResponse response =
      http::MakeResponse(200, "application/json", std::string(OpenApiDocument()));
  AddSecurityHeaders(response);
  return response;
}

}  // namespace concierge::api
