#include "api/device_json.h"

namespace concierge::api {
namespace {

std::string TimeOrEmpty(int64_t unix_seconds) {
  return unix_seconds != 0 ? FormatRfc3339(FromUnixSeconds(unix_seconds)) : "";
}

}  // namespace

Json OnboardingJson(const registrar::DeviceRecord& d) {
  return Json{{"id", d.id},
              {"serial", d.serial},
              {"maker", d.maker_name},
              {"state", d.state},
              {"departure", d.departure},
              {"masa_url", d.masa_url},
              {"mud_url", d.mud_url},
              {"ldevid_serial", d.ldevid_serial},
              {"ldevid_not_after", TimeOrEmpty(d.ldevid_not_after)},
              {"ldevid_confirmed", TimeOrEmpty(d.ldevid_confirmed_at)},
              {"enroll_status", d.enroll_status},
              {"address", d.address},
              {"first_seen", FormatRfc3339(FromUnixSeconds(d.created_at))},
              {"updated", FormatRfc3339(FromUnixSeconds(d.updated_at))}};
}

Json RegistryDeviceJson(const registry::Device& d) {
  Json software = Json::object();
  for (const auto& [package, version] : d.software) {
    software[package] = version;
  }
  return Json{{"name", d.name},
              {"serial", d.serial},
              {"maker", d.maker},
              {"owner", d.owner},
              {"zone", d.zone},
              {"mac", d.mac},
              {"addresses", d.addresses},
              {"mud_url", d.mud_url},
              {"mud_url_source", d.url_source},
              {"software", software},
              {"updated", TimeOrEmpty(d.updated_at)},
              {"state", d.State()},
              {"quarantine", d.quarantined() ? Json{{"since", TimeOrEmpty(d.quarantined_at)},
                                                    {"reason", d.quarantine_reason},
                                                    {"by", d.quarantined_by}}
                                             : Json(nullptr)}};
}

Json DeviceDetailJson(const site::DeviceDetail& detail) {
  Json json = RegistryDeviceJson(detail.record);
  json["tenants"] = detail.tenants;
  if (detail.onboarding) {
    json["onboarding"] = OnboardingJson(*detail.onboarding);
  }
  return json;
}

}  // namespace concierge::api
