// Quarantine, release, and the ruleset in force.
#include "api/call.h"
#include "api/device_json.h"

namespace concierge::api {

Result<http::HttpResponse> ManagementApi::Quarantine(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  const std::string& name = call.params["name"];
  RETURN_IF_ERROR(Visible(call, name));
  ASSIGN_OR_RETURN(Json body, ReadBody(call.request, {"reason"}));
  if (!body.contains("reason") || !body["reason"].is_string()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"reason\" must be a string of 1 to 200 printable characters");
  }
  ASSIGN_OR_RETURN(
      firewall::ApplyReport report,
      site_.Quarantine(name, body["reason"].get<std::string>(), call.Actor(), firewall_));
  ASSIGN_OR_RETURN(site::DeviceDetail detail, site_.DescribeDevice(name));
  return JsonResponse(200,
                      Json{{"device", DeviceDetailJson(detail)}, {"policy", PolicyJson(report)}});
}

Result<http::HttpResponse> ManagementApi::Release(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  const std::string& name = call.params["name"];
  RETURN_IF_ERROR(Visible(call, name));
  ASSIGN_OR_RETURN(firewall::ApplyReport report, site_.Release(name, call.Actor(), firewall_));
  ASSIGN_OR_RETURN(site::DeviceDetail detail, site_.DescribeDevice(name));
  return JsonResponse(200,
                      Json{{"device", DeviceDetailJson(detail)}, {"policy", PolicyJson(report)}});
}

Result<http::HttpResponse> ManagementApi::ShowPolicy(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  RETURN_IF_ERROR(site_.Mud());
  ASSIGN_OR_RETURN(auto applied, site_.mud_store().FindAppliedPolicy());
  ASSIGN_OR_RETURN(registry::DeviceRegistry * registry, site_.Registry());
  ASSIGN_OR_RETURN(std::vector<registry::Device> quarantined, registry->Quarantined());
  Json names = Json::array();
  for (const registry::Device& device : quarantined) {
    names.push_back(device.name);
  }
  Json in_force = nullptr;
  if (applied) {
    in_force = Json{{"sha256", applied->sha256},
                    {"applied", FormatRfc3339(FromUnixSeconds(applied->applied_at))},
                    {"ruleset", applied->ruleset}};
  }
  return JsonResponse(
      200, Json{{"firewall", firewall_.Kind()}, {"in_force", in_force}, {"quarantined", names}});
}

}  // namespace concierge::api
