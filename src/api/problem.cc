#include "api/problem.h"

#include <string>

#include "common/json.h"

namespace concierge::api {

http::HttpResponse Problem(const Error& error, int status) {
  if (status == 0) {
    status = HttpStatusFor(error);
  }
  std::string type(ErrorCodeName(error.code()));
  for (char& c : type) {
    c = c == ' ' ? '-' : c;
  }
  Json body = {{"type", "urn:concierge:problem:" + type},
               {"title", std::string(ErrorCodeName(error.code()))},
               {"status", status},
               {"detail", error.message()}};
  http::HttpResponse response =
      http::MakeResponse(status, "application/problem+json", DumpJson(body) + "\n");
  if (error.code() == ErrorCode::kUnauthenticated) {
    response.headers["www-authenticate"] = "Cookie realm=\"concierge\"";
  }
  AddSecurityHeaders(response);
  return response;
}

std::string DumpJson(const Json& document) {
  // Requests carry bytes that are not UTF-8 (a target, a name) into messages: replace them.
  return document.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void AddSecurityHeaders(http::HttpResponse& response) {
  response.headers["content-security-policy"] =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  response.headers["x-content-type-options"] = "nosniff";
  response.headers["x-frame-options"] = "DENY";
  response.headers["referrer-policy"] = "no-referrer";
  response.headers["cache-control"] = "no-store";
  response.headers["strict-transport-security"] = "max-age=31536000";
}

}  // namespace concierge::api
