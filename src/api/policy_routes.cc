// Quarantine, release, and the ruleset in force.
#include "api/call.h"
#include "api/device_json.h"
#include "api/mud_json.h"
#include "firewall/nft_ruleset.h"

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

Result<http::HttpResponse> ManagementApi::PolicyDiff(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  ASSIGN_OR_RETURN(firewall::ApplyReport preview, site_.PreviewPolicy());
  return JsonResponse(200, Json{{"changed", preview.changed},
                                {"sha256", preview.sha256},
                                {"diff", preview.diff},
                                {"devices", preview.devices},
                                {"rules", preview.rules}});
}

Result<http::HttpResponse> ManagementApi::ApplyPolicy(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  ASSIGN_OR_RETURN(firewall::ApplyReport report,
                   site_.ApplyPolicy(firewall_, /*dry_run=*/false, call.Actor()));
  Json answer = PolicyJson(report);
  answer["devices"] = report.devices;
  answer["rules"] = report.rules;
  return JsonResponse(200, answer);
}

Result<http::HttpResponse> ManagementApi::DeviceMud(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  const std::string& name = call.params["name"];
  RETURN_IF_ERROR(Visible(call, name));
  ASSIGN_OR_RETURN(mud::MudManager * manager, site_.Mud());
  ASSIGN_OR_RETURN(registry::DeviceRegistry * registry, site_.Registry());
  ASSIGN_OR_RETURN(auto device, registry->Find(name));
  if (!device) {
    return MakeError(ErrorCode::kNotFound, "no device named " + name.substr(0, 64));
  }
  Json state = MudStateJson(site_, *device);
  ASSIGN_OR_RETURN(mud::CompiledSite compiled, manager->Compile());
  auto rules = firewall::RenderDevice(compiled.policy, name);
  state["rules"] = rules ? *rules : "";
  for (const auto& [unmanaged, why] : compiled.unmanaged) {
    if (unmanaged == name) {
      state["unmanaged"] = why;
    }
  }
  return JsonResponse(200, state);
}

}  // namespace concierge::api
