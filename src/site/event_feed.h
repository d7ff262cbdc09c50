#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "store/audit_log.h"

namespace concierge::site {

// EventFeed is the site's live events: every audit event that one of the site's stores commits
// in this process, handed to each subscriber (the management API's event stream, a MUD manager
// that wants a new device at once). The audit chain stays the record: a subscriber that missed
// events, or another process, reads them from the chain by sequence number.
class EventFeed final : public store::AuditListener {
 public:
  using Handler = std::function<void(const store::AuditRecord&)>;

  // Subscribe returns an id for Unsubscribe. A handler runs on the committing thread while the
  // recording store is locked: it must be quick and must not call the site back (queue the
  // record instead). It may unsubscribe itself or others.
  uint64_t Subscribe(Handler handler);
  void Unsubscribe(uint64_t id);

  void Recorded(const store::AuditRecord& record) override;

 private:
  std::mutex mutex_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<const Handler>> handlers_;
};

}  // namespace concierge::site
