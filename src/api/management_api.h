#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/event_stream.h"
#include "http/https_server.h"
#include "operators/role.h"
#include "site/site.h"

namespace concierge::api {

// RouteInfo is one route of the management API as its OpenAPI document lists it.
struct RouteInfo {
  std::string method;
  std::string path;  // with {parameters}, e.g. "/api/v1/devices/{name}"
  // What the route needs; none for the open ones (signing in, the API's own description).
  std::optional<operators::Permission> permission;
};

// The routes the API serves, in the order it matches them.
std::vector<RouteInfo> Routes();

inline constexpr std::string_view kSessionCookie = "concierge_session";
inline constexpr std::string_view kCsrfHeader = "x-csrf-token";
// A script that signs in with its operator's client certificate sends this header (any value)
// with every change.
inline constexpr std::string_view kScriptHeader = "x-concierge-script";
// Request bodies are small JSON documents; anything larger is refused (413) before parsing.
inline constexpr size_t kMaxBodyBytes = size_t{64} * 1024;

// ManagementApi answers the site controller's management API (/api/v1/…): JSON over HTTPS,
// errors as RFC 9457 problem details. A request proves its operator with the session cookie
// that signing in with a one-time code set; a change also carries the session's CSRF token in
// X-CSRF-Token and, if the browser sent one, an Origin naming this server. Each route needs a
// permission of the operator's role; a tenant sees only the devices delegated to it.
class ManagementApi {
 public:
  // site must outlive the API; its operator desk is opened here. scheduler holds the live
  // event stream's waits (GET /api/v1/events).
  // firewall is where quarantines and policy go at once.
  static Result<std::unique_ptr<ManagementApi>> Create(site::Site& site, Scheduler& scheduler,
                                                       firewall::Firewall& firewall);
  ~ManagementApi();

  // Handle answers through respond: at once, or later for the live event stream.
  void Handle(const http::HttpRequest& request, const http::ConnectionInfo& peer,
              http::Respond respond);
  // HandleNow is Handle for the routes that answer at once (all but the event stream, which
  // answers 500 here when it has nothing yet): for tests and benchmarks.
  http::HttpResponse HandleNow(const http::HttpRequest& request, const http::ConnectionInfo& peer);

  EventStream& events() { return *events_; }

  struct Call;

 private:
  friend std::vector<RouteInfo> Routes();
  struct RouteEntry;
  // The only table of routes: the router and Routes() (so the OpenAPI test) read it.
  static const std::vector<RouteEntry>& Table();

  ManagementApi(site::Site& site, operators::OperatorDesk& desk, firewall::Firewall& firewall)
      : site_(site), desk_(desk), firewall_(firewall) {}

  // Route answers the call's route through respond; an error becomes a problem.
  void Route(Call& call, const http::Respond& respond);
  // Admit finds the call's route and checks who asks: session, CSRF token, origin and
  // permission. A path served only with other methods leaves them in allowed ("GET, POST").
  Result<const RouteEntry*> Admit(Call& call, std::string& allowed);

  // The routes (session_routes.cc, device_routes.cc, policy_routes.cc, exposure_routes.cc,
  // ownership_routes.cc, certificate_routes.cc, admin_routes.cc, event_routes.cc).
  Result<http::HttpResponse> SignIn(Call& call);
  Result<http::HttpResponse> WhoAmI(Call& call);
  Result<http::HttpResponse> SignOut(Call& call);
  Result<http::HttpResponse> ListDevices(Call& call);
  Result<http::HttpResponse> ShowDevice(Call& call);
  Result<http::HttpResponse> ListApprovals(Call& call);
  Result<http::HttpResponse> Approve(Call& call);
  Result<http::HttpResponse> ApproveMany(Call& call);
  Result<http::HttpResponse> Quarantine(Call& call);
  Result<http::HttpResponse> Release(Call& call);
  Result<http::HttpResponse> ShowPolicy(Call& call);
  Result<http::HttpResponse> PolicyDiff(Call& call);
  Result<http::HttpResponse> ApplyPolicy(Call& call);
  Result<http::HttpResponse> DeviceMud(Call& call);
  Result<http::HttpResponse> ShowExposure(Call& call);
  Result<http::HttpResponse> ExplainExposure(Call& call);
  Result<http::HttpResponse> ExposureGraph(Call& call);
  Result<http::HttpResponse> ExposureGraphSvg(Call& call);
  Result<http::HttpResponse> TightenExposure(Call& call);
  Result<http::HttpResponse> ShowOwnership(Call& call);
  Result<http::HttpResponse> ExportDevices(Call& call);
  Result<http::HttpResponse> ImportDevices(Call& call);
  Result<http::HttpResponse> DecommissionDevice(Call& call);
  Result<http::HttpResponse> ListTenants(Call& call);
  Result<http::HttpResponse> GrantTenant(Call& call);
  Result<http::HttpResponse> RevokeTenant(Call& call);
  Result<http::HttpResponse> ListCertificates(Call& call);
  Result<http::HttpResponse> ListAudit(Call& call);
  Result<http::HttpResponse> VerifyAudit(Call& call);
  Result<http::HttpResponse> ListOperators(Call& call);
  Result<http::HttpResponse> AddOperator(Call& call);
  Result<http::HttpResponse> RevokeOperator(Call& call);
  Result<http::HttpResponse> Describe(Call& call);
  void StreamEvents(Call& call, const http::Respond& respond);  // answers later

  // PolicyJson says where an applied policy went and what changed in the ruleset.
  Json PolicyJson(const firewall::ApplyReport& report) const;
  // AuthenticateClientCertificate accepts an operator's current certificate from the domain CA.
  Result<operators::Session> AuthenticateClientCertificate(const http::ConnectionInfo& peer);
  // ExposedDevices names the devices in classes the exposure analyzer scores above zero
  // ("exposed") or knows a weakness of ("weak"), sorted.
  Result<std::vector<std::string>> ExposedDevices(const std::string& which);
  // TenantDevices is the set of devices a tenant's delegations in force name.
  Result<std::vector<std::string>> TenantDevices(const std::string& tenant);
  // Visible refuses (404, as if absent) a device the caller's role may not see.
  Status Visible(const Call& call, const std::string& device);

  site::Site& site_;
  operators::OperatorDesk& desk_;
  firewall::Firewall& firewall_;
  std::unique_ptr<EventStream> events_;
  uint64_t subscription_ = 0;
  // The site's use cases are called one at a time; the desk and stores are thread-safe.
  std::mutex site_mutex_;
};

}  // namespace concierge::api
