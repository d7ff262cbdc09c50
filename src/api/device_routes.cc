// The inventory and the approval queue.
#include "api/call.h"
#include "api/device_json.h"

namespace concierge::api {
namespace {

constexpr size_t kMaxPage = 500;
constexpr size_t kMaxBulk = 1000;

}  // namespace

Result<http::HttpResponse> ManagementApi::ListDevices(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {"maker", "owner", "zone", "model", "q", "state",
                                          "quarantined", "exposure", "offset", "limit"}));
  registry::DeviceFilter filter;
  auto text = [&call](const std::string& key) {
    auto found = call.query.find(key);
    return found == call.query.end() ? std::string() : found->second;
  };
  filter.maker = text("maker");
  filter.owner = text("owner");
  filter.zone = text("zone");
  filter.search = text("q");
  filter.state = text("state");
  filter.mud_url = text("model");
  if (std::string exposure = text("exposure"); !exposure.empty()) {
    ASSIGN_OR_RETURN(filter.only, ExposedDevices(exposure));
  }
  if (auto quarantined = call.query.find("quarantined"); quarantined != call.query.end()) {
    if (quarantined->second != "true" && quarantined->second != "false") {
      return MakeError(ErrorCode::kInvalidArgument, "quarantined must be true or false");
    }
    filter.quarantined = quarantined->second == "true";
  }
  ASSIGN_OR_RETURN(filter.offset, QueryNumber(call.query, "offset", 0, 100'000'000));
  ASSIGN_OR_RETURN(filter.limit, QueryNumber(call.query, "limit", 50, kMaxPage));
  if (operators::ScopedToDelegations(call.session->holder.role)) {
    ASSIGN_OR_RETURN(std::vector<std::string> mine, TenantDevices(call.session->holder.tenant));
    if (filter.only) {
      std::vector<std::string> both;
      std::ranges::set_intersection(*filter.only, mine, std::back_inserter(both));
      mine = std::move(both);
    }
    filter.only = std::move(mine);
  }
  ASSIGN_OR_RETURN(registry::DeviceRegistry * registry, site_.Registry());
  ASSIGN_OR_RETURN(registry::DevicePage page, registry->Page(filter));
  Json devices = Json::array();
  for (const registry::Device& device : page.devices) {
    devices.push_back(RegistryDeviceJson(device));
  }
  return JsonResponse(200, Json{{"total", page.total},
                                {"offset", filter.offset},
                                {"limit", filter.limit},
                                {"devices", devices}});
}

Result<std::vector<std::string>> ManagementApi::ExposedDevices(const std::string& which) {
  if (which != "exposed" && which != "weak") {
    return MakeError(ErrorCode::kInvalidArgument, "exposure must be exposed or weak");
  }
  ASSIGN_OR_RETURN(auto view, site_.OpenExposureView());
  ASSIGN_OR_RETURN(exposure::Analysis analysis, exposure::Analyze(view->model));
  std::vector<std::string> devices;
  for (size_t i = 0; i < analysis.graph.nodes.size(); ++i) {
    const exposure::Node& node = analysis.graph.nodes[i];
    bool chosen = which == "weak" ? !node.weaknesses.empty() : analysis.risks[i].score > 0;
    if (!node.host && chosen) {
      devices.insert(devices.end(), node.members.begin(), node.members.end());
    }
  }
  std::ranges::sort(devices);
  return devices;
}

Result<http::HttpResponse> ManagementApi::ShowDevice(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  const std::string& name = call.params["name"];
  RETURN_IF_ERROR(Visible(call, name));
  ASSIGN_OR_RETURN(site::DeviceDetail detail, site_.DescribeDevice(name));
  return JsonResponse(200, DeviceDetailJson(detail));
}

Result<http::HttpResponse> ManagementApi::ListApprovals(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  ASSIGN_OR_RETURN(auto pending, site_.Devices(registrar::kStatePending));
  std::vector<std::string> visible;
  bool scoped = operators::ScopedToDelegations(call.session->holder.role);
  if (scoped) {
    ASSIGN_OR_RETURN(visible, TenantDevices(call.session->holder.tenant));
  }
  Json devices = Json::array();
  for (const registrar::DeviceRecord& device : pending) {
    if (!scoped || std::ranges::binary_search(visible, device.serial)) {
      devices.push_back(OnboardingJson(device));
    }
  }
  return JsonResponse(200, Json{{"pending", devices}});
}

Result<http::HttpResponse> ManagementApi::Approve(Call& call) {
  ASSIGN_OR_RETURN(int64_t id, PathId(call.params["id"], "device id"));
  RETURN_IF_ERROR(site_.ApproveDevice(id, call.Actor()));
  return JsonResponse(200, Json{{"approved", Json::array({id})}, {"refused", Json::array()}});
}

Result<http::HttpResponse> ManagementApi::ApproveMany(Call& call) {
  ASSIGN_OR_RETURN(Json body, ReadBody(call.request, {"ids"}));
  if (!body.contains("ids") || !body["ids"].is_array() || body["ids"].empty() ||
      body["ids"].size() > kMaxBulk) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"ids\" must be a list of 1 to " + std::to_string(kMaxBulk) + " device ids");
  }
  for (const Json& id : body["ids"]) {
    if (!id.is_number_integer()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "\"ids\" holds " + id.dump().substr(0, 32) + ", not a device id");
    }
  }
  // One summary of results: each device is approved or refused on its own.
  Json approved = Json::array();
  Json refused = Json::array();
  for (const Json& id : body["ids"]) {
    auto done = site_.ApproveDevice(id.get<int64_t>(), call.Actor());
    if (done) {
      approved.push_back(id);
    } else {
      refused.push_back({{"id", id}, {"detail", done.error().message()}});
    }
  }
  return JsonResponse(200, Json{{"approved", approved}, {"refused", refused}});
}

}  // namespace concierge::api
