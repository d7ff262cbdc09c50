#include "api/mud_json.h"

#include "mud/mud_parser.h"

namespace concierge::api {
namespace {

std::string When(int64_t unix_seconds) {
  return unix_seconds == 0 ? "-" : FormatRfc3339(FromUnixSeconds(unix_seconds));
}

}  // namespace

Json MudStateJson(site::Site& site, const registry::Device& device) {
  Json row{{"device", device.name},
           {"mac", device.mac},
           {"addresses", device.addresses},
           {"mud_url", device.mud_url},
           {"url_source", device.url_source}};
  auto found_file = site.mud_store().FindFile(device.mud_url);
  std::optional<mud::StoredMudFile> file = found_file ? *found_file : std::nullopt;
  if (file) {
    row["signer"] = file->signer;
    row["fetched"] = When(file->fetched_at);
    row["expires"] = When(file->expires_at);
    if (auto parsed = mud::ParseMudJson(file->body); parsed) {
      row["systeminfo"] = parsed->systeminfo;
      if (!parsed->warnings.empty()) {
        row["warnings"] = parsed->warnings;
      }
    }
  }
  auto found_status = site.mud_store().FindFetchStatus(device.mud_url);
  std::optional<mud::FetchStatus> status = found_status ? *found_status : std::nullopt;
  if (status && !status->error.empty()) {
    row["last_error"] = status->error;
  }
  return row;
}

}  // namespace concierge::api
