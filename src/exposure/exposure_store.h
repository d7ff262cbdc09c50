#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "exposure/site_graph.h"
#include "store/audit_log.h"

namespace concierge::exposure {

// TighteningSettings is whether the analyzer's blocks are part of the site's policy, and which
// device classes the operator chose to quarantine despite a declared flow.
struct TighteningSettings {
  bool enabled = false;
  std::vector<std::string> quarantine;
};

// ExposureStore keeps what the analyzer knows of the site in its database (component
// "exposure"): weaknesses marked on devices, the threat catalogue and advisories, and the
// tightening settings (a device's software is in its registry record). Changes append audit events.
// Thread-safe.
class ExposureStore {
 public:
  // Open opens the SQLite database at path, creating it if need be, and migrates it.
  static Result<std::unique_ptr<ExposureStore>> Open(const std::filesystem::path& path,
                                                     const Clock& clock);
  // Open migrates a database of any backend and keeps it.
  static Result<std::unique_ptr<ExposureStore>> Open(std::unique_ptr<store::Database> db,
                                                     const Clock& clock);

  Status Mark(const std::string& device, const std::string& weakness);
  Status Unmark(const std::string& device, const std::string& weakness);
  // LoadWeaknesses gives the marked weaknesses by device name.
  Result<std::map<std::string, std::vector<std::string>>> LoadWeaknesses();

  // Knowledge is stored as given (kind "threats" or "advisories"), after the caller parsed it.
  Status StoreKnowledge(const std::string& kind, const std::string& body);
  Result<std::optional<std::string>> FindKnowledge(const std::string& kind);

  Result<TighteningSettings> LoadSettings();
  Status SaveSettings(const TighteningSettings& settings, const Json& detail);

  // ListenToAudit tells listener of every audit event this store commits.
  void ListenToAudit(store::AuditListener* listener) { audit_.Listen(listener); }

 private:
  ExposureStore(std::unique_ptr<store::Database> db, const Clock& clock)
      : db_(std::move(db)), audit_(*db_, clock) {}

  Status Change(const std::string& sql, const std::vector<std::string>& values,
                std::string_view event, const std::string& subject, const Json& detail);

  std::mutex mutex_;
  std::unique_ptr<store::Database> db_;
  store::AuditChain audit_;
};

}  // namespace concierge::exposure
