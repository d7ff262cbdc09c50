#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

#include "store/audit_log.h"

namespace concierge::site {

// RegistryFollower carries the registrar's changes into the device registry. The event feed's
// handler (which must not call the site back) queues the audit records that say a device
// received a certificate or left; the site applies them before anyone reads the registry, so
// a read costs what changed since the last one, never a walk over every device. A new follower
// knows nothing of what happened before it, so its first CatchUp syncs every device; past
// kMaxQueued records it again keeps only a note that a full sync is due.
class RegistryFollower {
 public:
  static constexpr size_t kMaxQueued = 10'000;

  using ApplyRecord = std::function<Status(const store::AuditRecord&)>;
  using SyncAll = std::function<Status()>;

  RegistryFollower(ApplyRecord apply, SyncAll sync_all)
      : apply_(std::move(apply)), sync_all_(std::move(sync_all)) {}

  // Follows reports whether a record changes what the registry holds.
  static bool Follows(const store::AuditRecord& record);
  // Queue takes a record the event feed heard; records the registry does not follow are ignored.
  void Queue(const store::AuditRecord& record);
  // CatchUp applies what is queued, in order. A record that fails stays queued, with those
  // after it, for the next call.
  Status CatchUp();

  size_t queued() {
    std::lock_guard lock(queue_mutex_);
    return queue_.size();
  }

 private:
  ApplyRecord apply_;
  SyncAll sync_all_;
  std::mutex queue_mutex_;  // held briefly by Queue, on the committing thread
  std::deque<store::AuditRecord> queue_;
  bool sync_all_due_ = true;
  std::mutex mutex_;  // one CatchUp at a time
};

}  // namespace concierge::site
