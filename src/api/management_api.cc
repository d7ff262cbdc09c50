#include "api/management_api.h"

#include <algorithm>
#include <vector>

#include <openssl/crypto.h>

#include "api/call.h"
#include "api/dashboard_files.h"
#include "api/problem.h"
#include "common/bytes.h"
#include "crypto/certificate.h"

namespace concierge::api {
namespace {

using operators::Permission;

Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return MakeError(ErrorCode::kBadFormat, "a '%' escape in the request target is cut short");
      }
      auto byte = HexDecode(text.substr(i + 1, 2));
      if (!byte) {
        return MakeError(ErrorCode::kBadFormat,
                         "\"%" + std::string(text.substr(i + 1, 2)) + "\" is not a '%' escape");
      }
      out += static_cast<char>((*byte)[0]);
      i += 2;
    } else {
      out += plus_is_space && c == '+' ? ' ' : c;
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseQuery(std::string_view text) {
  std::map<std::string, std::string> query;
  constexpr size_t kMaxParameters = 32;
  while (!text.empty()) {
    size_t end = text.find('&');
    std::string_view pair = text.substr(0, end);
    text = end == std::string_view::npos ? "" : text.substr(end + 1);
    if (pair.empty()) {
      continue;
    }
    if (query.size() == kMaxParameters) {
      return MakeError(ErrorCode::kTooLarge, "more than 32 query parameters");
    }
    size_t equals = pair.find('=');
    ASSIGN_OR_RETURN(std::string key, PercentDecode(pair.substr(0, equals), true));
    ASSIGN_OR_RETURN(
        std::string value,
        PercentDecode(equals == std::string_view::npos ? "" : pair.substr(equals + 1), true));
    query[key] = value;
  }
  return query;
}

// Match fills params when path fits pattern, segment by segment.
bool Match(std::string_view pattern, std::string_view path,
           std::map<std::string, std::string>& params) {
  std::map<std::string, std::string> found;
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty() || pattern[0] != '/' || path[0] != '/') {
      return false;
    }
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    std::string_view want = pattern.substr(0, pattern.find('/'));
    std::string_view have = path.substr(0, path.find('/'));
    if (want.starts_with('{')) {
      auto decoded = PercentDecode(have, false);
      if (have.empty() || !decoded) {
        return false;
      }
      found[std::string(want.substr(1, want.size() - 2))] = *decoded;
    } else if (want != have) {
      return false;
    }
    pattern.remove_prefix(want.size());
    path.remove_prefix(have.size());
  }
  params = std::move(found);
  return true;
}

std::string SessionCookie(const http::HttpRequest& request) {
  std::string header = request.Header("cookie");
  std::string_view cookies = header;
  while (!cookies.empty()) {
    size_t end = cookies.find(';');
    std::string_view cookie = cookies.substr(0, end);
    cookies = end == std::string_view::npos ? "" : cookies.substr(end + 1);
    while (cookie.starts_with(' ')) {
      cookie.remove_prefix(1);
    }
    if (cookie.starts_with(kSessionCookie) && cookie.size() > kSessionCookie.size() &&
        cookie[kSessionCookie.size()] == '=') {
      return std::string(cookie.substr(kSessionCookie.size() + 1));
    }
  }
  return "";
}

// Listed joins names for a message: "a, b, c".
std::string Listed(const auto& names) {
  std::string listed;
  for (const auto& name : names) {
    listed += (listed.empty() ? "" : ", ") + std::string(name);
  }
  return listed;
}

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// CheckOrigin refuses a change that a browser says comes from another site.
Status CheckOrigin(const http::HttpRequest& request) {
  std::string origin = request.Header("origin");
  std::string expected = "https://" + request.Header("host");
  if (!origin.empty() && origin != expected) {
    return MakeError(ErrorCode::kPermissionDenied, "cross-origin request refused: Origin " +
                                                       origin.substr(0, 128) + " is not " +
                                                       expected.substr(0, 128));
  }
  if (request.Header("sec-fetch-site") == "cross-site") {
    return MakeError(ErrorCode::kPermissionDenied, "cross-site request refused");
  }
  return OkStatus();
}

}  // namespace

// Whether a route reads a JSON body. One that does not refuses any body but "{}", so a
// mistaken or stray field never passes silently.
enum class Body { kNone, kJson };

struct ManagementApi::RouteEntry {
  std::string_view method;
  std::string_view path;
  std::optional<Permission> permission;
  Body body;
  Result<http::HttpResponse> (ManagementApi::*handler)(Call&);
  // A route that answers later (the event stream) has this instead of handler.
  void (ManagementApi::*later)(Call&, const http::Respond&) = nullptr;
};

const std::vector<ManagementApi::RouteEntry>& ManagementApi::Table() {
  static const std::vector<RouteEntry> table = {
      {"GET", "/api/v1/openapi.json", std::nullopt, Body::kNone, &ManagementApi::Describe},
      {"POST", "/api/v1/session", std::nullopt, Body::kJson, &ManagementApi::SignIn},
      {"GET", "/api/v1/session", Permission::kRead, Body::kNone, &ManagementApi::WhoAmI},
      {"DELETE", "/api/v1/session", Permission::kRead, Body::kNone, &ManagementApi::SignOut},
      {"GET", "/api/v1/devices", Permission::kRead, Body::kNone, &ManagementApi::ListDevices},
      {"GET", "/api/v1/devices/{name}", Permission::kRead, Body::kNone, &ManagementApi::ShowDevice},
      {"POST", "/api/v1/devices/{name}/quarantine", Permission::kOperate, Body::kJson,
       &ManagementApi::Quarantine},
      {"DELETE", "/api/v1/devices/{name}/quarantine", Permission::kOperate, Body::kNone,
       &ManagementApi::Release},
      {"GET", "/api/v1/devices/{name}/mud", Permission::kRead, Body::kNone,
       &ManagementApi::DeviceMud},
      {"GET", "/api/v1/devices/{name}/ownership", Permission::kRead, Body::kNone,
       &ManagementApi::ShowOwnership},
      {"POST", "/api/v1/devices/{name}/decommission", Permission::kOwnership, Body::kJson,
       &ManagementApi::DecommissionDevice},
      {"POST", "/api/v1/transfers/export", Permission::kOwnership, Body::kJson,
       &ManagementApi::ExportDevices},
      {"POST", "/api/v1/transfers/import", Permission::kOwnership, Body::kJson,
       &ManagementApi::ImportDevices},
      {"GET", "/api/v1/tenants", Permission::kReadSite, Body::kNone, &ManagementApi::ListTenants},
      {"POST", "/api/v1/tenants", Permission::kOwnership, Body::kJson, &ManagementApi::GrantTenant},
      {"DELETE", "/api/v1/tenants/{id}", Permission::kOwnership, Body::kNone,
       &ManagementApi::RevokeTenant},
      {"GET", "/api/v1/policy", Permission::kReadSite, Body::kNone, &ManagementApi::ShowPolicy},
      {"GET", "/api/v1/policy/diff", Permission::kReadSite, Body::kNone,
       &ManagementApi::PolicyDiff},
      {"POST", "/api/v1/policy/apply", Permission::kPolicy, Body::kNone,
       &ManagementApi::ApplyPolicy},
      {"GET", "/api/v1/exposure", Permission::kReadSite, Body::kNone, &ManagementApi::ShowExposure},
      {"GET", "/api/v1/exposure/graph", Permission::kReadSite, Body::kNone,
       &ManagementApi::ExposureGraph},
      {"GET", "/api/v1/exposure/graph.svg", Permission::kReadSite, Body::kNone,
       &ManagementApi::ExposureGraphSvg},
      {"GET", "/api/v1/exposure/devices/{name}", Permission::kRead, Body::kNone,
       &ManagementApi::ExplainExposure},
      {"POST", "/api/v1/exposure/tighten", Permission::kPolicy, Body::kJson,
       &ManagementApi::TightenExposure},
      {"GET", "/api/v1/approvals", Permission::kRead, Body::kNone, &ManagementApi::ListApprovals},
      {"POST", "/api/v1/approvals", Permission::kOnboard, Body::kJson, &ManagementApi::ApproveMany},
      {"POST", "/api/v1/approvals/{id}", Permission::kOnboard, Body::kNone,
       &ManagementApi::Approve},
      {"GET", "/api/v1/certificates", Permission::kRead, Body::kNone,
       &ManagementApi::ListCertificates},
      {"GET", "/api/v1/audit", Permission::kRead, Body::kNone, &ManagementApi::ListAudit},
      {"GET", "/api/v1/audit/verify", Permission::kRead, Body::kNone, &ManagementApi::VerifyAudit},
      {"GET", "/api/v1/events", Permission::kRead, Body::kNone, nullptr,
       &ManagementApi::StreamEvents},
      {"GET", "/api/v1/operators", Permission::kOperators, Body::kNone,
       &ManagementApi::ListOperators},
      {"POST", "/api/v1/operators", Permission::kOperators, Body::kJson,
       &ManagementApi::AddOperator},
      {"DELETE", "/api/v1/operators/{name}", Permission::kOperators, Body::kNone,
       &ManagementApi::RevokeOperator},
  };
  return table;
}

std::vector<RouteInfo> Routes() {
  std::vector<RouteInfo> routes;
  for (const auto& entry : ManagementApi::Table()) {
    routes.push_back({std::string(entry.method), std::string(entry.path), entry.permission});
  }
  return routes;
}

http::HttpResponse JsonResponse(int status, const Json& body) {
  http::HttpResponse response =
      http::MakeResponse(status, "application/json", DumpJson(body) + "\n");
  AddSecurityHeaders(response);
  return response;
}

Result<Json> ReadBody(const http::HttpRequest& request,
                      std::initializer_list<std::string_view> allowed) {
  std::string type = request.Header("content-type");
  if (!type.starts_with("application/json")) {
    return MakeError(ErrorCode::kBadFormat,
                     "the body must be application/json, not \"" + type.substr(0, 64) + "\"");
  }
  if (request.body.size() > kMaxBodyBytes) {
    return MakeError(ErrorCode::kTooLarge, "the body is " + std::to_string(request.body.size()) +
                                               " bytes, more than the limit of " +
                                               std::to_string(kMaxBodyBytes));
  }
  ASSIGN_OR_RETURN(Json body, ParseJsonObject(request.body, "the request body"));
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "unknown field \"" + key.substr(0, 64) +
                           "\" (this request takes: " + Listed(allowed) + ")");
    }
  }
  return body;
}

Result<int64_t> PathId(const std::string& text, std::string_view what) {
  if (text.empty() || text.size() > 18 ||
      !std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; })) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(what) + " \"" + text.substr(0, 32) + "\" is not a whole number");
  }
  return std::stoll(text);
}

Result<size_t> QueryNumber(const std::map<std::string, std::string>& query, const std::string& key,
                           size_t fallback, size_t max) {
  auto found = query.find(key);
  if (found == query.end()) {
    return fallback;
  }
  const std::string& text = found->second;
  if (text.empty() || text.size() > 9 ||
      !std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(text) > max) {
    return MakeError(ErrorCode::kInvalidArgument, key + " must be a whole number from 0 to " +
                                                      std::to_string(max) + ", not \"" +
                                                      text.substr(0, 16) + "\"");
  }
  return std::stoul(text);
}

Status AllowQuery(const std::map<std::string, std::string>& query,
                  std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : query) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string names = Listed(allowed);
      return MakeError(ErrorCode::kInvalidArgument,
                       "unknown query parameter \"" + key.substr(0, 64) +
                           "\" (this resource takes: " + (names.empty() ? "none" : names) + ")");
    }
  }
  return OkStatus();
}

Result<std::unique_ptr<ManagementApi>> ManagementApi::Create(site::Site& site, Scheduler& scheduler,
                                                             firewall::Firewall& firewall) {
  ASSIGN_OR_RETURN(operators::OperatorDesk * desk, site.Operators());
  ASSIGN_OR_RETURN(auto records, site.AuditEvents());
  std::unique_ptr<ManagementApi> api(new ManagementApi(site, *desk, firewall));
  api->events_ = std::make_unique<EventStream>(scheduler, records.empty() ? 0 : records.back().seq);
  EventStream* stream = api->events_.get();
  api->subscription_ = site.events().Subscribe(
      [stream](const store::AuditRecord& record) { stream->Publish(record); });
  return api;
}

ManagementApi::~ManagementApi() {
  site_.events().Unsubscribe(subscription_);
}

http::HttpResponse ManagementApi::HandleNow(const http::HttpRequest& request,
                                            const http::ConnectionInfo& peer) {
  // Shared, as a route that answers later may answer after this returned.
  auto answer = std::make_shared<std::optional<http::HttpResponse>>();
  Handle(request, peer, [answer](http::HttpResponse response) { *answer = std::move(response); });
  return *answer ? std::move(**answer)
                 : Problem(Error(ErrorCode::kInternal, "this route answers later"));
}

void ManagementApi::Handle(const http::HttpRequest& request, const http::ConnectionInfo& peer,
                           http::Respond respond) {
  std::string_view target = request.target;
  size_t question = target.find('?');
  Call call{request,      peer,        std::string(target.substr(0, question)), {}, {},
            std::nullopt, peer.address};
  if (question != std::string_view::npos) {
    auto query = ParseQuery(target.substr(question + 1));
    if (!query) {
      respond(Problem(query.error()));
      return;
    }
    call.query = std::move(*query);
  }
  if (!call.path.starts_with("/api/")) {
    // The dashboard's files: the same for everyone; the API behind them checks who asks.
    auto file = FindDashboardFile(call.path);
    if (file && request.method == "GET") {
      http::HttpResponse page =
          http::MakeResponse(200, file->content_type, std::string(file->body));
      AddSecurityHeaders(page);
      respond(std::move(page));
      return;
    }
  }
  Route(call, respond);
}

void ManagementApi::Route(Call& call, const http::Respond& respond) {
  std::string allowed;
  auto route = Admit(call, allowed);
  if (!route) {
    http::HttpResponse refused = Problem(route.error(), allowed.empty() ? 0 : 405);
    if (!allowed.empty()) {
      refused.headers["allow"] = allowed;
    }
    respond(std::move(refused));
    return;
  }
  std::lock_guard lock(site_mutex_);
  if ((*route)->later != nullptr) {
    (this->*((*route)->later))(call, respond);
    return;
  }
  auto response = (this->*((*route)->handler))(call);
  respond(response ? std::move(*response) : Problem(response.error()));
}

Result<const ManagementApi::RouteEntry*> ManagementApi::Admit(Call& call, std::string& allowed) {
  const RouteEntry* route = nullptr;
  std::vector<std::string> methods;
  for (const RouteEntry& entry : Table()) {
    std::map<std::string, std::string> params;
    if (!Match(entry.path, call.path, params)) {
      continue;
    }
    methods.emplace_back(entry.method);
    if (entry.method == call.request.method) {
      route = &entry;
      call.params = std::move(params);
      break;
    }
  }
  if (route == nullptr) {
    if (methods.empty()) {
      return MakeError(ErrorCode::kNotFound, "no such resource: " + call.path.substr(0, 128));
    }
    allowed = Listed(methods);
    return MakeError(ErrorCode::kInvalidArgument,
                     call.request.method.substr(0, 16) + " is not allowed here; try " + allowed);
  }
  bool change = route->method != "GET";
  if (change) {
    RETURN_IF_ERROR(CheckOrigin(call.request));
  }
  if (route->permission) {
    std::string token = SessionCookie(call.request);
    if (token.empty() && call.peer.certificate) {
      ASSIGN_OR_RETURN(call.session, AuthenticateClientCertificate(call.peer));
      // A browser holding the certificate would send it on any site's request; a custom
      // header is what another origin's page cannot add without this server's consent.
      if (change && call.request.Header(std::string(kScriptHeader)).empty()) {
        return MakeError(ErrorCode::kPermissionDenied,
                         "a change made with a client certificate needs the X-Concierge-Script "
                         "header");
      }
    } else {
      ASSIGN_OR_RETURN(call.session, desk_.Authenticate(token));
      if (change &&
          !SameSecret(call.request.Header(std::string(kCsrfHeader)), operators::CsrfToken(token))) {
        return MakeError(ErrorCode::kPermissionDenied,
                         "the X-CSRF-Token header is missing or does not belong to this session");
      }
    }
    operators::Role role = call.session->holder.role;
    if (!operators::Allows(role, *route->permission)) {
      return MakeError(ErrorCode::kPermissionDenied,
                       "operator " + call.session->holder.name + " (" +
                           std::string(operators::RoleName(role)) + ") may not " +
                           std::string(operators::PermissionName(*route->permission)) + ": " +
                           std::string(route->method) + " " + std::string(route->path));
    }
  }
  // Who asks is settled first: a stranger learns nothing from how its body is refused.
  if (route->body == Body::kNone && !call.request.body.empty()) {
    RETURN_IF_ERROR(ReadBody(call.request, {}));  // "{}" at most
  }
  return route;
}

Result<operators::Session> ManagementApi::AuthenticateClientCertificate(
    const http::ConnectionInfo& peer) {
  const crypto::Certificate& leaf = *peer.certificate;
  crypto::ChainOptions options;
  options.at = site_.clock().Now();
  if (!crypto::VerifyChain(leaf, peer.chain, {site_.directory().identity.domain_ca}, options)) {
    return MakeError(ErrorCode::kUnauthenticated,
                     "the client certificate is not one this site's domain CA issued and still "
                     "valid (concierge operator cert)");
  }
  return desk_.AuthenticateCertificate(leaf.SubjectCommonName(), leaf.SerialHex());
}

Result<std::vector<std::string>> ManagementApi::TenantDevices(const std::string& tenant) {
  ASSIGN_OR_RETURN(auto delegations, site_.Delegations());
  std::vector<std::string> devices;
  for (const auto& delegation : delegations) {
    if (delegation.delegation.tenant == tenant && delegation.state == "in force") {
      devices.insert(devices.end(), delegation.delegation.devices.begin(),
                     delegation.delegation.devices.end());
    }
  }
  std::ranges::sort(devices);
  auto [first, last] = std::ranges::unique(devices);
  devices.erase(first, last);
  return devices;
}

Status ManagementApi::Visible(const Call& call, const std::string& device) {
  if (!operators::ScopedToDelegations(call.session->holder.role)) {
    return OkStatus();
  }
  ASSIGN_OR_RETURN(auto devices, TenantDevices(call.session->holder.tenant));
  if (!std::ranges::binary_search(devices, device)) {
    return MakeError(ErrorCode::kNotFound, "no device named " + device.substr(0, 64));
  }
  return OkStatus();
}

}  // namespace concierge::api
