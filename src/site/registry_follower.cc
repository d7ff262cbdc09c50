#include "site/registry_follower.h"

namespace concierge::site {

bool RegistryFollower::Follows(const store::AuditRecord& record) {
  return record.kind == "certificate.issued" || record.kind == "device.transferred" ||
         record.kind == "device.decommissioned" || record.kind == "transfer.exported" ||
         record.kind == "device.retiring";
}

void RegistryFollower::Queue(const store::AuditRecord& record) {
  if (!Follows(record)) {
    return;
  }
  std::lock_guard lock(queue_mutex_);
  if (queue_.size() >= kMaxQueued) {
    queue_.clear();
    sync_all_due_ = true;
  }
  if (!sync_all_due_) {
    queue_.push_back(record);
  }
}

Status RegistryFollower::CatchUp() {
  std::lock_guard catching_up(mutex_);
  std::deque<store::AuditRecord> pending;
  bool sync_all = false;
  {
    std::lock_guard lock(queue_mutex_);
    pending.swap(queue_);
    sync_all = sync_all_due_;
    sync_all_due_ = false;
  }
  // What is not applied goes back in front of anything queued meanwhile.
  auto requeue = [&] {
    std::lock_guard lock(queue_mutex_);
    sync_all_due_ = sync_all_due_ || sync_all;
    pending.insert(pending.end(), queue_.begin(), queue_.end());
    queue_.swap(pending);
  };
  if (sync_all) {
    // The full sync covers every record queued before it.
    pending.clear();
    if (Status synced = sync_all_(); !synced) {
      requeue();
      return synced;
    }
    sync_all = false;
  }
  while (!pending.empty()) {
    if (Status applied = apply_(pending.front()); !applied) {
      requeue();
      return applied;
    }
    pending.pop_front();
  }
  return OkStatus();
}

}  // namespace concierge::site
