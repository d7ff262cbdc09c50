#include "registry/device_registry.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/bytes.h"
#include "common/ip_network.h"
#include "store/open_database.h"

namespace concierge::registry {
namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE registry_devices (
  name TEXT PRIMARY KEY,
  serial TEXT NOT NULL DEFAULT '',
  maker TEXT NOT NULL DEFAULT '',
  mac TEXT UNIQUE,
  addresses TEXT NOT NULL DEFAULT '',
  mud_url TEXT NOT NULL DEFAULT '',
  url_source TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL
);
CREATE TABLE registry_software (
  device TEXT NOT NULL REFERENCES registry_devices(name),
  package TEXT NOT NULL,
  version TEXT NOT NULL,
  PRIMARY KEY (device, package)
);
)sql";

// Before the registry, the MUD manager kept devices in mud_devices and the exposure analyzer
// their software in exposure_software. Their rows move here; the tables are created first only
// so that a database that never had them migrates too.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE IF NOT EXISTS mud_devices (
  name TEXT PRIMARY KEY,
  mac TEXT UNIQUE,
  addresses TEXT NOT NULL DEFAULT '',
  mud_url TEXT NOT NULL DEFAULT '',
  url_source TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL
);
INSERT INTO registry_devices(name, mac, addresses, mud_url, url_source, updated_at)
  SELECT name, mac, addresses, mud_url, url_source, updated_at FROM mud_devices;
DROP TABLE mud_devices;
CREATE TABLE IF NOT EXISTS exposure_software (
  device TEXT NOT NULL,
  package TEXT NOT NULL,
  version TEXT NOT NULL,
  PRIMARY KEY (device, package)
);
INSERT INTO registry_devices(name, updated_at)
  SELECT DISTINCT device, 0 FROM exposure_software
  WHERE device NOT IN (SELECT name FROM registry_devices);
INSERT INTO registry_software(device, package, version)
  SELECT device, package, version FROM exposure_software;
DROP TABLE exposure_software;
)sql";

constexpr std::string_view kSchemaV3 = R"sql(
ALTER TABLE registry_devices ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE registry_devices ADD COLUMN zone TEXT NOT NULL DEFAULT '';
CREATE INDEX registry_devices_zone ON registry_devices(zone);
)sql";

constexpr std::string_view kSchemaV4 = R"sql(
ALTER TABLE registry_devices ADD COLUMN quarantined_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE registry_devices ADD COLUMN quarantine_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE registry_devices ADD COLUMN quarantined_by TEXT NOT NULL DEFAULT '';
CREATE INDEX registry_devices_quarantined ON registry_devices(quarantined_at)
  WHERE quarantined_at <> 0;
)sql";

constexpr std::string_view kSchemaV5 = R"sql(
ALTER TABLE registry_devices ADD COLUMN departure TEXT NOT NULL DEFAULT '';
)sql";

constexpr std::array<std::string_view, 6> kMigrations = {store::kAuditSchema, kSchemaV1, kSchemaV2,
                                                         kSchemaV3,           kSchemaV4, kSchemaV5};

constexpr std::string_view kColumns =
    "name, serial, maker, owner, zone, COALESCE(mac, ''), addresses, mud_url, url_source,"
    " updated_at, quarantined_at, quarantine_reason, quarantined_by, departure";

constexpr size_t kMaxZoneLength = 64;
constexpr size_t kMaxReasonLength = 200;
// Names bound into one query (SQLite allows 32,766 parameters).
constexpr size_t kMaxOnly = 20'000;

int Strength(std::string_view source) {
  if (source == kSourceManual) {
    return 3;
  }
  if (source == kSourceIdevid) {
    return 2;
  }
  return source == kSourceDhcp ? 1 : 0;
}

Status CheckAddresses(const std::vector<std::string>& addresses) {
  for (const std::string& text : addresses) {
    ASSIGN_OR_RETURN(IpNetwork address, IpNetwork::Parse(text));
    if (!address.IsHost()) {
      return MakeError(ErrorCode::kInvalidArgument, text + " is a network, not an address");
    }
  }
  return OkStatus();
}

Result<std::string> NormalizeMac(const std::string& mac) {
  std::string out;
  int digits = 0;
  for (char c : mac) {
    if (std::isxdigit(static_cast<unsigned char>(c)) != 0) {
      if (digits > 0 && digits % 2 == 0) {
        out += ':';
      }
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ++digits;
    } else if (c != ':' && c != '-' && c != '.') {
      digits = -100;
      break;
    }
  }
  if (digits != 12) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"" + mac.substr(0, 40) + "\" is not a MAC address (aa:bb:cc:dd:ee:ff)");
  }
  return out;
}

Status CheckZone(const std::string& zone) {
  auto allowed = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  };
  if (zone.size() > kMaxZoneLength || !std::ranges::all_of(zone, allowed) ||
      (!zone.empty() && std::isalnum(static_cast<unsigned char>(zone[0])) == 0)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "zone \"" + zone.substr(0, kMaxZoneLength) +
                         "\" is not 1 to 64 letters, digits, '.', '_' or '-' starting with a "
                         "letter or digit");
  }
  return OkStatus();
}

Device NewDevice(const std::string& name) {
  Device device;
  device.name = name;
  return device;
}

Device ReadDevice(store::Statement& query) {
  Device device;
  device.name = query.Text(0);
  device.serial = query.Text(1);
  device.maker = query.Text(2);
  device.owner = query.Text(3);
  device.zone = query.Text(4);
  device.mac = query.Text(5);
  device.addresses = SplitWords(query.Text(6));
  device.mud_url = query.Text(7);
  device.url_source = query.Text(8);
  device.updated_at = query.Int(9);
  device.quarantined_at = query.Int(10);
  device.quarantine_reason = query.Text(11);
  device.quarantined_by = query.Text(12);
  device.departure = query.Text(13);
  return device;
}

}  // namespace

Result<std::unique_ptr<DeviceRegistry>> DeviceRegistry::Open(const std::filesystem::path& path,
                                                             const Clock& clock) {
  ASSIGN_OR_RETURN(auto db, store::OpenDatabase(path.string()));
  ASSIGN_OR_RETURN_CTX(auto registry, Open(std::move(db), clock), path.string());
  return registry;
}

Result<std::unique_ptr<DeviceRegistry>> DeviceRegistry::Open(std::unique_ptr<store::Database> db,
                                                             const Clock& clock) {
  RETURN_IF_ERROR(store::MigrateComponent(*db, "registry", kMigrations));
  return std::unique_ptr<DeviceRegistry>(new DeviceRegistry(std::move(db), clock));
}

Result<std::optional<Device>> DeviceRegistry::Query(std::string_view where,
                                                    const std::string& key) {
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT " + std::string(kColumns) +
                                            " FROM registry_devices WHERE " + std::string(where)));
  query.BindAll(key);
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return std::optional<Device>();
  }
  return ReadDevice(query);
}

Status DeviceRegistry::Upsert(const Device& device) {
  ASSIGN_OR_RETURN(
      auto upsert,
      db_->Prepare("INSERT INTO registry_devices(name, serial, maker, owner, zone, mac,"
                   " addresses, mud_url, url_source, updated_at, quarantined_at,"
                   " quarantine_reason, quarantined_by, departure)"
                   " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                   " ON CONFLICT(name) DO UPDATE SET serial=excluded.serial,"
                   " maker=excluded.maker, owner=excluded.owner, zone=excluded.zone,"
                   " mac=excluded.mac, addresses=excluded.addresses, mud_url=excluded.mud_url,"
                   " url_source=excluded.url_source, updated_at=excluded.updated_at,"
                   " quarantined_at=excluded.quarantined_at,"
                   " quarantine_reason=excluded.quarantine_reason,"
                   " quarantined_by=excluded.quarantined_by, departure=excluded.departure"));
  int64_t now = ToUnixSeconds(clock_.Now());
  if (device.mac.empty()) {
    upsert.BindAll(device.name, device.serial, device.maker, device.owner, device.zone, nullptr,
                   JoinWords(device.addresses), device.mud_url, device.url_source, now,
                   device.quarantined_at, device.quarantine_reason, device.quarantined_by,
                   device.departure);
  } else {
    upsert.BindAll(device.name, device.serial, device.maker, device.owner, device.zone, device.mac,
                   JoinWords(device.addresses), device.mud_url, device.url_source, now,
                   device.quarantined_at, device.quarantine_reason, device.quarantined_by,
                   device.departure);
  }
  return upsert.Run();
}

Status DeviceRegistry::Onboarded(const OnboardedDevice& onboarded) {
  if (onboarded.serial.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "an onboarded device needs its serial");
  }
  if (!onboarded.address.empty()) {
    RETURN_IF_ERROR_CTX(CheckAddresses({onboarded.address}), "device " + onboarded.serial);
  }
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto existing, Query("name=?", onboarded.serial));
  Device record = existing.value_or(NewDevice(onboarded.serial));
  bool identified = record.serial != onboarded.serial || record.maker != onboarded.maker ||
                    record.owner != onboarded.owner;
  record.serial = onboarded.serial;
  record.maker = onboarded.maker;
  record.owner = onboarded.owner;
  // An operator's URL stands; the IDevID's replaces a DHCP option or an older IDevID URL.
  bool url_changed = !onboarded.mud_url.empty() && record.url_source != kSourceManual &&
                     !(record.url_source == kSourceIdevid && record.mud_url == onboarded.mud_url);
  std::string previous_url = record.mud_url;
  if (url_changed) {
    record.mud_url = onboarded.mud_url;
    record.url_source = std::string(kSourceIdevid);
  }
  // The enrolment address is taken once, when the device first appears here; later a DHCP
  // lease or an operator moves it.
  bool addressed = !existing && !onboarded.address.empty();
  if (addressed) {
    record.addresses = {onboarded.address};
  }
  if (!identified && !url_changed && !addressed) {
    return OkStatus();
  }
  RETURN_IF_ERROR(Upsert(record));
  std::string subject = store::DeviceSubject(record.name);
  if (identified) {
    RETURN_IF_ERROR(audit_.Append(
        "device.registered", subject,
        Json{{"serial", record.serial}, {"maker", record.maker}, {"owner", record.owner}}));
  }
  if (url_changed) {
    RETURN_IF_ERROR(audit_.Append(
        "mud.url_assigned", subject,
        Json{{"url", record.mud_url}, {"source", kSourceIdevid}, {"previous", previous_url}}));
  }
  if (addressed) {
    Json detail{{"addresses", record.addresses}};
    RETURN_IF_ERROR(TakeAddress(record.name, onboarded.address, detail));
    RETURN_IF_ERROR(audit_.Append("device.addresses", subject, detail));
  }
  return tx.Commit();
}

Status DeviceRegistry::AssignUrl(const std::string& device, const std::string& url,
                                 std::string_view source) {
  if (device.empty() || url.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a device name and a MUD URL are required");
  }
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto existing, Query("name=?", device));
  Device record = existing.value_or(NewDevice(device));
  if (record.mud_url == url && record.url_source == source) {
    return OkStatus();
  }
  if (!record.mud_url.empty() && Strength(source) < Strength(record.url_source)) {
    return MakeError(ErrorCode::kFailedPrecondition, "device " + device + " has MUD URL " +
                                                         record.mud_url + " from " +
                                                         record.url_source + ", which a URL from " +
                                                         std::string(source) + " does not replace");
  }
  std::string previous = record.mud_url;
  record.mud_url = url;
  record.url_source = std::string(source);
  RETURN_IF_ERROR(Upsert(record));
  RETURN_IF_ERROR(audit_.Append("mud.url_assigned", store::DeviceSubject(device),
                                Json{{"url", url}, {"source", source}, {"previous", previous}}));
  return tx.Commit();
}

Status DeviceRegistry::SetAddresses(const std::string& device,
                                    const std::vector<std::string>& addresses) {
  RETURN_IF_ERROR_CTX(CheckAddresses(addresses), "device " + device);
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto existing, Query("name=?", device));
  Device record = existing.value_or(NewDevice(device));
  if (record.addresses == addresses) {
    return OkStatus();
  }
  record.addresses = addresses;
  RETURN_IF_ERROR(Upsert(record));
  Json detail{{"addresses", addresses}};
  for (const std::string& address : addresses) {
    RETURN_IF_ERROR(TakeAddress(device, address, detail));
  }
  RETURN_IF_ERROR(audit_.Append("device.addresses", store::DeviceSubject(device), detail));
  return tx.Commit();
}

Status DeviceRegistry::TakeAddress(const std::string& device, const std::string& address,
                                   Json& detail) {
  ASSIGN_OR_RETURN(auto holders, db_->Prepare("SELECT name, addresses FROM registry_devices WHERE"
                                              " name<>? AND (' ' || addresses || ' ')"
                                              " LIKE ('% ' || ? || ' %')"));
  holders.BindAll(device, address);
  std::vector<std::pair<std::string, std::vector<std::string>>> previous;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, holders.Step());
    if (!row) {
      break;
    }
    previous.emplace_back(holders.Text(0), SplitWords(holders.Text(1)));
  }
  for (auto& [name, kept] : previous) {
    std::erase(kept, address);
    ASSIGN_OR_RETURN(auto update, db_->Prepare("UPDATE registry_devices SET addresses=?,"
                                               " updated_at=? WHERE name=?"));
    RETURN_IF_ERROR(update.BindAll(JoinWords(kept), ToUnixSeconds(clock_.Now()), name).Run());
    detail["taken_from"].push_back(Json{{"device", name}, {"address", address}});
  }
  return OkStatus();
}

Result<std::string> DeviceRegistry::Seen(const std::string& mac_text, const std::string& address,
                                         const std::string& url) {
  ASSIGN_OR_RETURN(std::string mac, NormalizeMac(mac_text));
  RETURN_IF_ERROR(CheckAddresses({address}));
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto record, Query("mac=?", mac));
  if (!record) {
    // A device onboarded with BRSKI is known by the address it enrolled from.
    ASSIGN_OR_RETURN(record, Query("(' ' || addresses || ' ') LIKE ('% ' || ? || ' %')"
                                   " AND mac IS NULL",
                                   address));
  }
  if (!record) {
    record = NewDevice("mac-" + mac);
  }
  record->mac = mac;
  Json detail{{"mac", mac}, {"address", address}};
  if (record->addresses != std::vector<std::string>{address}) {
    // Addresses of the same family are replaced: DHCP hands out one IPv4 address per client.
    bool v4 = address.find(':') == std::string::npos;
    std::erase_if(record->addresses,
                  [&](const std::string& a) { return (a.find(':') == std::string::npos) == v4; });
    record->addresses.push_back(address);
  }
  if (!url.empty() && url != record->mud_url) {
    if (Strength(kSourceDhcp) >= Strength(record->url_source) || record->mud_url.empty()) {
      detail["url"] = url;
      record->mud_url = url;
      record->url_source = std::string(kSourceDhcp);
    } else {
      detail["url_ignored"] = url;
      detail["kept_url"] = record->mud_url;
      detail["kept_source"] = record->url_source;
    }
  }
  RETURN_IF_ERROR(Upsert(*record));
  // DHCP gave the address to this device: whoever held it before has let it go.
  RETURN_IF_ERROR(TakeAddress(record->name, address, detail));
  RETURN_IF_ERROR(audit_.Append("device.seen", store::DeviceSubject(record->name), detail));
  RETURN_IF_ERROR(tx.Commit());
  return record->name;
}

Status DeviceRegistry::SetSoftware(const std::string& device, const std::string& package,
                                   const std::string& version) {
  if (device.empty() || package.empty() || version.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a device, a package and a version are required");
  }
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto existing, Query("name=?", device));
  if (!existing) {
    RETURN_IF_ERROR(Upsert(NewDevice(device)));
  }
  ASSIGN_OR_RETURN(auto upsert,
                   db_->Prepare("INSERT INTO registry_software(device, package, version)"
                                " VALUES (?, ?, ?) ON CONFLICT(device, package)"
                                " DO UPDATE SET version=excluded.version"));
  RETURN_IF_ERROR(upsert.BindAll(device, package, version).Run());
  RETURN_IF_ERROR(audit_.Append("exposure.software", store::DeviceSubject(device),
                                Json{{"package", package}, {"version", version}}));
  return tx.Commit();
}

Status DeviceRegistry::SetZone(const std::string& device, const std::string& zone) {
  RETURN_IF_ERROR(CheckZone(zone));
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto record, Query("name=?", device));
  if (!record) {
    return MakeError(ErrorCode::kNotFound, "no device named \"" + device + "\" in the registry");
  }
  if (record->zone == zone) {
    return OkStatus();
  }
  std::string previous = record->zone;
  record->zone = zone;
  RETURN_IF_ERROR(Upsert(*record));
  RETURN_IF_ERROR(audit_.Append("device.zone", store::DeviceSubject(device),
                                Json{{"zone", zone}, {"previous", previous}}));
  return tx.Commit();
}

std::string Device::State() const {
  if (quarantined()) {
    return "quarantined";
  }
  if (!departure.empty()) {
    return departure;
  }
  return serial.empty() ? "seen" : "onboarded";
}

Status DeviceRegistry::SetDeparture(const std::string& device, const std::string& departure) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto record, Query("name=?", device));
  if (!record || record->departure == departure) {
    return OkStatus();
  }
  record->departure = departure;
  RETURN_IF_ERROR(Upsert(*record));
  return tx.Commit();
}

Status DeviceRegistry::Quarantine(const std::string& device, const std::string& reason,
                                  const std::string& actor) {
  bool printable = std::ranges::all_of(
      reason, [](char c) { return std::isprint(static_cast<unsigned char>(c)) != 0; });
  if (reason.empty() || reason.size() > kMaxReasonLength || !printable) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a quarantine needs a reason of 1 to 200 printable characters");
  }
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto record, Query("name=?", device));
  if (!record) {
    return MakeError(ErrorCode::kNotFound, "no device named \"" + device + "\" in the registry");
  }
  if (record->quarantined()) {
    return OkStatus();
  }
  record->quarantined_at = ToUnixSeconds(clock_.Now());
  record->quarantine_reason = reason;
  record->quarantined_by = actor;
  RETURN_IF_ERROR(Upsert(*record));
  RETURN_IF_ERROR(
      audit_.Append("device.quarantined", store::DeviceSubject(device),
                    Json{{"reason", reason}, {"by", actor}, {"addresses", record->addresses}}));
  return tx.Commit();
}

Status DeviceRegistry::Release(const std::string& device, const std::string& actor) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto record, Query("name=?", device));
  if (!record) {
    return MakeError(ErrorCode::kNotFound, "no device named \"" + device + "\" in the registry");
  }
  if (!record->quarantined()) {
    return OkStatus();
  }
  Json detail{
      {"by", actor}, {"reason", record->quarantine_reason}, {"since", record->quarantined_at}};
  record->quarantined_at = 0;
  record->quarantine_reason.clear();
  record->quarantined_by.clear();
  RETURN_IF_ERROR(Upsert(*record));
  RETURN_IF_ERROR(audit_.Append("device.released", store::DeviceSubject(device), detail));
  return tx.Commit();
}

Result<std::vector<Device>> DeviceRegistry::Quarantined() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT " + std::string(kColumns) +
                                            " FROM registry_devices WHERE quarantined_at <> 0"
                                            " ORDER BY name"));
  std::vector<Device> devices;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      return devices;
    }
    devices.push_back(ReadDevice(query));
  }
}

Status DeviceRegistry::Remove(const std::string& device) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto software, db_->Prepare("DELETE FROM registry_software WHERE device=?"));
  RETURN_IF_ERROR(software.BindAll(device).Run());
  ASSIGN_OR_RETURN(auto remove, db_->Prepare("DELETE FROM registry_devices WHERE name=?"));
  RETURN_IF_ERROR(remove.BindAll(device).Run());
  if (db_->Changes() == 0) {
    return OkStatus();
  }
  RETURN_IF_ERROR(audit_.Append("device.policy_removed", store::DeviceSubject(device),
                                Json{{"reason", "left the site"}}));
  return tx.Commit();
}

Result<DevicePage> DeviceRegistry::Page(const DeviceFilter& filter) {
  std::string where = " WHERE 1 = 1";
  std::vector<std::string> values;
  auto equal = [&](std::string_view column, const std::string& value) {
    if (!value.empty()) {
      where += " AND " + std::string(column) + " = ?";
      values.push_back(value);
    }
  };
  equal("maker", filter.maker);
  equal("owner", filter.owner);
  equal("zone", filter.zone);
  equal("mud_url", filter.mud_url);
  if (filter.state == "quarantined") {
    where += " AND quarantined_at <> 0";
  } else if (filter.state == "leaving" || filter.state == "retiring") {
    where += " AND quarantined_at = 0 AND departure = ?";
    values.push_back(filter.state);
  } else if (filter.state == "onboarded" || filter.state == "seen") {
    where += " AND quarantined_at = 0 AND departure = '' AND serial ";
    where += filter.state == "onboarded" ? "<> ''" : "= ''";
  } else if (!filter.state.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "state \"" + filter.state.substr(0, 32) +
                         "\" is not one of quarantined, leaving, retiring, onboarded, seen");
  }
  if (filter.quarantined) {
    where += *filter.quarantined ? " AND quarantined_at <> 0" : " AND quarantined_at = 0";
  }
  if (!filter.search.empty()) {
    std::string pattern = "%";
    for (char c : filter.search) {
      if (c == '%' || c == '_' || c == '\\') {
        pattern += '\\';
      }
      pattern += c;
    }
    pattern += '%';
    where +=
        " AND (name LIKE ? ESCAPE '\\' OR serial LIKE ? ESCAPE '\\'"
        " OR COALESCE(mac, '') LIKE ? ESCAPE '\\')";
    values.insert(values.end(), 3, pattern);
  }
  if (filter.only) {
    if (filter.only->size() > kMaxOnly) {
      return MakeError(ErrorCode::kTooLarge,
                       "the filter names " + std::to_string(filter.only->size()) +
                           " devices, more than the limit of " + std::to_string(kMaxOnly));
    }
    where += " AND " + store::InList("name", filter.only->size());
    values.insert(values.end(), filter.only->begin(), filter.only->end());
  }
  std::lock_guard lock(mutex_);
  DevicePage page;
  ASSIGN_OR_RETURN(auto count, db_->Prepare("SELECT COUNT(*) FROM registry_devices" + where));
  count.BindTexts(1, values);
  ASSIGN_OR_RETURN(bool counted, count.Step());
  page.total = counted ? static_cast<size_t>(count.Int(0)) : 0;
  ASSIGN_OR_RETURN(auto query,
                   db_->Prepare("SELECT " + std::string(kColumns) + " FROM registry_devices" +
                                where + " ORDER BY name LIMIT " + std::to_string(filter.limit) +
                                " OFFSET " + std::to_string(filter.offset)));
  query.BindTexts(1, values);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      return page;
    }
    page.devices.push_back(ReadDevice(query));
  }
}

Result<std::vector<Device>> DeviceRegistry::List() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT " + std::string(kColumns) +
                                            " FROM registry_devices ORDER BY name"));
  std::vector<Device> devices;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) {
      break;
    }
    devices.push_back(ReadDevice(query));
  }
  ASSIGN_OR_RETURN(auto software, db_->Prepare("SELECT device, package, version"
                                               " FROM registry_software ORDER BY device, package"));
  auto device = devices.begin();
  for (;;) {
    ASSIGN_OR_RETURN(bool row, software.Step());
    if (!row) {
      return devices;
    }
    // Both are in name order, so one pass joins them.
    std::string name = software.Text(0);
    device = std::lower_bound(device, devices.end(), name,
                              [](const Device& d, const std::string& n) { return d.name < n; });
    if (device != devices.end() && device->name == name) {
      device->software.emplace_back(software.Text(1), software.Text(2));
    }
  }
}

Result<std::optional<Device>> DeviceRegistry::Find(const std::string& name) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto found, Query("name=?", name));
  if (!found) {
    return found;
  }
  ASSIGN_OR_RETURN(auto software, db_->Prepare("SELECT package, version FROM registry_software"
                                               " WHERE device=? ORDER BY package"));
  software.BindAll(name);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, software.Step());
    if (!row) {
      return found;
    }
    found->software.emplace_back(software.Text(0), software.Text(1));
  }
}

}  // namespace concierge::registry
