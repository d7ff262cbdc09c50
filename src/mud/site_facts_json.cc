#include "mud/site_facts_json.h"

#include "common/json.h"

namespace concierge::mud {
namespace {

std::unexpected<Error> Bad(const std::string& path, std::string_view what) {
  return MakeError(ErrorCode::kBadFormat, "site facts: " + path + ": " + std::string(what));
}

Result<std::vector<std::string>> Strings(const Json& value, const std::string& path) {
  if (!value.is_array()) {
    return Bad(path, "expected an array of strings");
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) {
      return Bad(path + "[" + std::to_string(i) + "]", "expected a string");
    }
    out.push_back(value[i].get<std::string>());
  }
  return out;
}

Result<std::map<std::string, std::vector<std::string>>> StringLists(const Json& value,
                                                                    const std::string& path) {
  if (!value.is_object()) {
    return Bad(path, "expected an object of string arrays");
  }
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [key, list] : value.items()) {
    std::string member_path = path;
    member_path += '.';
    member_path += key;
    ASSIGN_OR_RETURN(out[key], Strings(list, member_path));
  }
  return out;
}

}  // namespace

Result<SiteFactsFile> ParseSiteFactsJson(std::string_view json) {
  ASSIGN_OR_RETURN(Json root, ParseJsonObject(json, "site facts"));
  RETURN_IF_ERROR(
      JsonObjectReader(root, "site facts")
          .RejectUnknown({"local-networks", "controllers", "my-controllers", "dns", "devices"}));
  SiteFactsFile file;
  if (root.contains("local-networks")) {
    ASSIGN_OR_RETURN(file.facts.local_networks, Strings(root["local-networks"], "local-networks"));
  }
  if (root.contains("controllers")) {
    ASSIGN_OR_RETURN(file.facts.controllers, StringLists(root["controllers"], "controllers"));
  }
  if (root.contains("my-controllers")) {
    ASSIGN_OR_RETURN(file.facts.my_controllers,
                     StringLists(root["my-controllers"], "my-controllers"));
  }
  if (root.contains("dns")) {
    ASSIGN_OR_RETURN(file.names, StringLists(root["dns"], "dns"));
  }
  if (root.contains("devices")) {
    const Json& devices = root["devices"];
    if (!devices.is_array()) {
      return Bad("devices", "expected an array of objects");
    }
    for (size_t i = 0; i < devices.size(); ++i) {
      std::string path = "devices[" + std::to_string(i) + "]";
      if (!devices[i].is_object()) {
        return Bad(path, "expected an object");
      }
      JsonObjectReader reader(devices[i], path);
      RETURN_IF_ERROR(reader.RejectUnknown({"name", "mud-url", "addresses"}));
      ManagedDevice device;
      ASSIGN_OR_RETURN(device.name, reader.RequiredString("name"));
      ASSIGN_OR_RETURN(device.mud_url, reader.RequiredString("mud-url"));
      if (devices[i].contains("addresses")) {
        ASSIGN_OR_RETURN(device.addresses, Strings(devices[i]["addresses"], path + ".addresses"));
      }
      file.facts.devices.push_back(std::move(device));
    }
  }
  return file;
}

}  // namespace concierge::mud
