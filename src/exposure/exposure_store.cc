#include "exposure/exposure_store.h"

#include <array>
#include <map>

#include "store/audit_log.h"
#include "store/open_database.h"

namespace concierge::exposure {
namespace {

// Software was kept here in exposure_software until the device registry took it over; a
// database made since never has that table (registry/device_registry.cc moves an older one's).
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE exposure_marks (device TEXT NOT NULL, weakness TEXT NOT NULL,
                             PRIMARY KEY (device, weakness));
CREATE TABLE exposure_knowledge (kind TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE exposure_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

constexpr std::array<std::string_view, 2> kMigrations = {store::kAuditSchema, kSchemaV1};

}  // namespace

Result<std::unique_ptr<ExposureStore>> ExposureStore::Open(const std::filesystem::path& path,
                                                           const Clock& clock) {
  ASSIGN_OR_RETURN(auto db, store::OpenDatabase(path.string()));
  ASSIGN_OR_RETURN_CTX(auto store, Open(std::move(db), clock), path.string());
  return store;
}

Result<std::unique_ptr<ExposureStore>> ExposureStore::Open(std::unique_ptr<store::Database> db,
                                                           const Clock& clock) {
  RETURN_IF_ERROR(store::MigrateComponent(*db, "exposure", kMigrations));
  return std::unique_ptr<ExposureStore>(new ExposureStore(std::move(db), clock));
}

Status ExposureStore::Change(const std::string& sql, const std::vector<std::string>& values,
                             std::string_view event, const std::string& subject,
                             const Json& detail) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto statement, db_->Prepare(sql));
  for (size_t i = 0; i < values.size(); ++i) {
    statement.Bind(static_cast<int>(i) + 1, values[i]);
  }
  RETURN_IF_ERROR(statement.Run());
  RETURN_IF_ERROR(audit_.Append(event, subject, detail));
  return tx.Commit();
}

Status ExposureStore::Mark(const std::string& device, const std::string& weakness) {
  if (device.empty() || weakness.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a device and a weakness are required");
  }
  return Change("INSERT OR IGNORE INTO exposure_marks(device, weakness) VALUES (?, ?)",
                {device, weakness}, "exposure.marked", store::DeviceSubject(device),
                Json{{"weakness", weakness}});
}

Status ExposureStore::Unmark(const std::string& device, const std::string& weakness) {
  return Change("DELETE FROM exposure_marks WHERE device=? AND weakness=?", {device, weakness},
                "exposure.unmarked", store::DeviceSubject(device), Json{{"weakness", weakness}});
}

Result<std::map<std::string, std::vector<std::string>>> ExposureStore::LoadWeaknesses() {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::vector<std::string>> devices;
  ASSIGN_OR_RETURN(auto marks,
                   db_->Prepare("SELECT device, weakness FROM exposure_marks ORDER BY 1, 2"));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, marks.Step());
    if (!row) {
      return devices;
    }
    devices[marks.Text(0)].push_back(marks.Text(1));
  }
}

Status ExposureStore::StoreKnowledge(const std::string& kind, const std::string& body) {
  return Change(
      "INSERT INTO exposure_knowledge(kind, body) VALUES (?, ?)"
      " ON CONFLICT(kind) DO UPDATE SET body=excluded.body",
      {kind, body}, "exposure.knowledge", "site", Json{{"kind", kind}, {"bytes", body.size()}});
}

Result<std::optional<std::string>> ExposureStore::FindKnowledge(const std::string& kind) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT body FROM exposure_knowledge WHERE kind=?"));
  query.BindAll(kind);
  ASSIGN_OR_RETURN(bool found, query.Step());
  return found ? std::optional<std::string>(query.Text(0)) : std::nullopt;
}

Result<TighteningSettings> ExposureStore::LoadSettings() {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query,
                   db_->Prepare("SELECT value FROM exposure_settings WHERE name='tightening'"));
  ASSIGN_OR_RETURN(bool found, query.Step());
  TighteningSettings settings;
  if (!found) {
    return settings;
  }
  ASSIGN_OR_RETURN(Json value, ParseJsonObject(query.Text(0), "tightening settings"));
  auto enabled = value.find("enabled");
  settings.enabled = enabled != value.end() && enabled->is_boolean() && enabled->get<bool>();
  if (auto list = value.find("quarantine"); list != value.end() && list->is_array()) {
    for (const Json& name : *list) {
      if (name.is_string()) {
        settings.quarantine.push_back(name.get<std::string>());
      }
    }
  }
  return settings;
}

Status ExposureStore::SaveSettings(const TighteningSettings& settings, const Json& detail) {
  Json value{{"enabled", settings.enabled}, {"quarantine", settings.quarantine}};
  Json event = detail;
  event["enabled"] = settings.enabled;
  event["quarantine"] = settings.quarantine;
  return Change(
      "INSERT INTO exposure_settings(name, value) VALUES ('tightening', ?)"
      " ON CONFLICT(name) DO UPDATE SET value=excluded.value",
      {value.dump()}, "exposure.tightening", "site", event);
}

}  // namespace concierge::exposure
