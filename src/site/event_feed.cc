#include "site/event_feed.h"

#include <vector>

namespace concierge::site {

uint64_t EventFeed::Subscribe(Handler handler) {
  std::lock_guard lock(mutex_);
  uint64_t id = next_id_++;
  handlers_.emplace(id, std::make_shared<const Handler>(std::move(handler)));
  return id;
}

void EventFeed::Unsubscribe(uint64_t id) {
  std::lock_guard lock(mutex_);
  handlers_.erase(id);
}

void EventFeed::Recorded(const store::AuditRecord& record) {
  // Called outside the lock, so a handler may subscribe or unsubscribe.
  std::vector<std::shared_ptr<const Handler>> handlers;
  {
    std::lock_guard lock(mutex_);
    handlers.reserve(handlers_.size());
    for (const auto& [id, handler] : handlers_) {
      handlers.push_back(handler);
    }
  }
  for (const auto& handler : handlers) {
    (*handler)(record);
  }
}

}  // namespace concierge::site
