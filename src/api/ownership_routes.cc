// Ownership: a device's chain at its MASA, transfers to and from another owner,
// decommissioning, and tenants' delegations.
#include "api/call.h"
#include "crypto/public_key_text.h"
#include "ownership/transfer.h"

namespace concierge::api {
namespace {

constexpr size_t kMaxDevicesPerRequest = 1000;
constexpr int64_t kMaxDelegationDays = 3650;

// Text reads a required string field, at most max bytes.
Result<std::string> Text(const Json& body, const std::string& field, size_t max) {
  auto found = body.find(field);
  if (found == body.end() || !found->is_string() || found->get<std::string>().empty() ||
      found->get<std::string>().size() > max) {
    return MakeError(ErrorCode::kInvalidArgument, "\"" + field + "\" must be a string of 1 to " +
                                                      std::to_string(max) + " characters");
  }
  return found->get<std::string>();
}

Result<std::vector<std::string>> Names(const Json& body, const std::string& field) {
  auto found = body.find(field);
  if (found == body.end() || !found->is_array() || found->empty() ||
      found->size() > kMaxDevicesPerRequest ||
      !std::ranges::all_of(*found, [](const Json& name) { return name.is_string(); })) {
    return MakeError(ErrorCode::kInvalidArgument, "\"" + field + "\" must be a list of 1 to " +
                                                      std::to_string(kMaxDevicesPerRequest) +
                                                      " device names");
  }
  return found->get<std::vector<std::string>>();
}

}  // namespace

Result<http::HttpResponse> ManagementApi::ShowOwnership(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  const std::string& name = call.params["name"];
  RETURN_IF_ERROR(Visible(call, name));
  ASSIGN_OR_RETURN(site::DeviceOwnership owned, site_.OwnershipOf(name));
  const ownership::OwnershipChain& chain = owned.chain;
  Json entries = Json::array();
  for (const auto& entry : chain.entries()) {
    std::string to = entry.next_owner_key == owned.site_key ? "this site"
                     : entry.next_owner_key == chain.header().maker_key
                         ? "the maker"
                         : crypto::KeyName(entry.next_owner_key);
    entries.push_back(Json{{"index", entry.index},
                           {"kind", ownership::EntryKindName(entry.kind)},
                           {"issued_at", FormatRfc3339(FromUnixMillis(entry.issued_at))},
                           {"to", to}});
  }
  return JsonResponse(200, Json{{"serial", name},
                                {"maker", chain.header().maker},
                                {"entries", entries},
                                {"owned_by_this_site", owned.OwnedByThisSite()}});
}

Result<http::HttpResponse> ManagementApi::ExportDevices(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  ASSIGN_OR_RETURN(Json body, ReadBody(call.request, {"to", "registrar", "devices"}));
  ASSIGN_OR_RETURN(std::string to, Text(body, "to", 16 * 1024));
  ASSIGN_OR_RETURN(std::string registrar, Text(body, "registrar", 512));
  ASSIGN_OR_RETURN(std::vector<std::string> devices, Names(body, "devices"));
  ASSIGN_OR_RETURN_CTX(crypto::NamedPublicKey new_owner, crypto::ParsePublicKeyText(to), "\"to\"");
  ASSIGN_OR_RETURN(
      ownership::TransferBundle bundle,
      site_.ownership().Export({new_owner.spki, new_owner.name, registrar, devices}, call.Actor()));
  Json serials = Json::array();
  for (const auto& device : bundle.devices) {
    serials.push_back(device.serial);
  }
  return JsonResponse(200, Json{{"devices", serials},
                                {"to", new_owner.name},
                                {"registrar", registrar},
                                {"bundle", ownership::EncodeBundle(bundle)}});
}

Result<http::HttpResponse> ManagementApi::ImportDevices(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  ASSIGN_OR_RETURN(Json body, ReadBody(call.request, {"bundle"}));
  ASSIGN_OR_RETURN(std::string text, Text(body, "bundle", kMaxBodyBytes));
  ASSIGN_OR_RETURN_CTX(ownership::TransferBundle bundle, ownership::DecodeBundle(text),
                       "\"bundle\"");
  ASSIGN_OR_RETURN(registrar::ImportReport report, site_.ownership().Import(bundle));
  return JsonResponse(200, Json{{"devices", report.devices},
                                {"from", bundle.from},
                                {"makers_added", report.makers_added}});
}

Result<http::HttpResponse> ManagementApi::DecommissionDevice(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  const std::string& name = call.params["name"];
  bool device_gone = false;
  if (!call.request.body.empty()) {
    ASSIGN_OR_RETURN(Json body, ReadBody(call.request, {"device_gone"}));
    if (body.contains("device_gone")) {
      if (!body["device_gone"].is_boolean()) {
        return MakeError(ErrorCode::kInvalidArgument, "\"device_gone\" must be true or false");
      }
      device_gone = body["device_gone"].get<bool>();
    }
  }
  ASSIGN_OR_RETURN(std::string done,
                   site_.ownership().Decommission(name, device_gone, call.Actor()));
  return JsonResponse(200, Json{{"serial", name}, {"done", done}});
}

Result<http::HttpResponse> ManagementApi::ListTenants(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  ASSIGN_OR_RETURN(auto delegations, site_.Delegations());
  Json list = Json::array();
  for (const auto& [delegation, state] : delegations) {
    list.push_back(Json{{"id", delegation.id},
                        {"tenant", delegation.tenant},
                        {"key", crypto::KeyName(delegation.tenant_key)},
                        {"devices", delegation.devices},
                        {"from", FormatRfc3339(FromUnixSeconds(delegation.not_before))},
                        {"until", FormatRfc3339(FromUnixSeconds(delegation.not_after))},
                        {"state", state}});
  }
  return JsonResponse(200, Json{{"delegations", list}});
}

Result<http::HttpResponse> ManagementApi::GrantTenant(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  ASSIGN_OR_RETURN(Json body, ReadBody(call.request, {"tenant", "key", "devices", "days"}));
  ASSIGN_OR_RETURN(std::string tenant, Text(body, "tenant", 128));
  ASSIGN_OR_RETURN(std::string key_text, Text(body, "key", 16 * 1024));
  ASSIGN_OR_RETURN(std::vector<std::string> devices, Names(body, "devices"));
  if (!body.contains("days") || !body["days"].is_number_integer() ||
      body["days"].get<int64_t>() < 1 || body["days"].get<int64_t>() > kMaxDelegationDays) {
    return MakeError(ErrorCode::kInvalidArgument, "\"days\" must be a whole number from 1 to " +
                                                      std::to_string(kMaxDelegationDays));
  }
  ASSIGN_OR_RETURN_CTX(crypto::NamedPublicKey key, crypto::ParsePublicKeyText(key_text), "\"key\"");
  SystemTime from = site_.clock().Now();
  SystemTime until = from + std::chrono::hours(24 * body["days"].get<int64_t>());
  ASSIGN_OR_RETURN(int64_t id,
                   site_.GrantTenant(tenant, key.spki, devices, from, until, call.Actor()));
  return JsonResponse(200, Json{{"id", id},
                                {"tenant", tenant},
                                {"key", key.name},
                                {"devices", devices},
                                {"from", FormatRfc3339(from)},
                                {"until", FormatRfc3339(until)},
                                {"state", "in force"}});
}

Result<http::HttpResponse> ManagementApi::RevokeTenant(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  ASSIGN_OR_RETURN(int64_t id, PathId(call.params["id"], "delegation id"));
  RETURN_IF_ERROR(site_.RevokeTenant(id, call.Actor()));
  return JsonResponse(200, Json{{"revoked", id}});
}

}  // namespace concierge::api
