#pragma once

// What a route of the management API is handed (internal to the api module).

#include <initializer_list>
#include <map>
#include <optional>
#include <string>

#include "api/management_api.h"
#include "common/json.h"
#include "operators/operator_desk.h"

namespace concierge::api {

struct ManagementApi::Call {
  const http::HttpRequest& request;
  const http::ConnectionInfo& peer;
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> params;  // from the route's {placeholders}
  std::optional<operators::Session> session;  // set for every route that needs a permission
  std::string source;                         // the peer's address

  // Actor names the operator in audit events.
  std::string Actor() const { return "operator:" + session->holder.name; }
};

// JsonResponse answers with a JSON document.
http::HttpResponse JsonResponse(int status, const Json& body);

// ReadBody parses the request's JSON object and refuses fields not in allowed, naming them.
Result<Json> ReadBody(const http::HttpRequest& request,
                      std::initializer_list<std::string_view> allowed);

// PathId reads a record's id from the path (what names it in the error: "device id").
Result<int64_t> PathId(const std::string& text, std::string_view what);

// QueryNumber reads a non-negative integer query parameter, at most max; fallback if absent.
Result<size_t> QueryNumber(const std::map<std::string, std::string>& query, const std::string& key,
                           size_t fallback, size_t max);

}  // namespace concierge::api

namespace concierge::api {

// AllowQuery refuses query parameters not in allowed, naming them.
Status AllowQuery(const std::map<std::string, std::string>& query,
                  std::initializer_list<std::string_view> allowed);

}  // namespace concierge::api
