#include "api/event_stream.h"

#include "common/json.h"

namespace concierge::api {

EventStream::EventStream(Scheduler& scheduler, int64_t head_seq, size_t keep,
                         std::chrono::milliseconds hold)
    : scheduler_(scheduler), keep_(keep), hold_(hold), head_seq_(head_seq) {}

EventStream::~EventStream() {
  std::lock_guard lock(mutex_);
  for (auto& [id, waiter] : waiters_) {
    scheduler_.Cancel(waiter.timer);
  }
}

std::vector<LiveEvent> EventStream::Collect(int64_t after, const Visible& visible) const {
  std::vector<LiveEvent> found;
  if (!events_.empty() && after < events_.front().seq - 1) {
    found.push_back({head_seq_, 0, "stream.resync", ""});
    return found;
  }
  for (const LiveEvent& event : events_) {
    if (event.seq > after && visible(event.subject)) {
      found.push_back(event);
    }
  }
  return found;
}

void EventStream::Publish(const store::AuditRecord& record) {
  std::vector<std::pair<Answer, std::vector<LiveEvent>>> ready;
  {
    std::lock_guard lock(mutex_);
    events_.push_back({record.seq, record.at, record.kind, record.subject});
    head_seq_ = std::max(head_seq_, record.seq);
    while (events_.size() > keep_) {
      events_.pop_front();
    }
    for (auto waiter = waiters_.begin(); waiter != waiters_.end();) {
      auto found = Collect(waiter->second.after, waiter->second.visible);
      if (found.empty()) {
        ++waiter;
        continue;
      }
      scheduler_.Cancel(waiter->second.timer);
      ready.emplace_back(std::move(waiter->second.answer), std::move(found));
      waiter = waiters_.erase(waiter);
    }
  }
  for (auto& [answer, found] : ready) {
    int64_t last = found.back().seq;
    answer(std::move(found), last);
  }
}

void EventStream::Wait(int64_t after, Visible visible, Answer answer) {
  std::unique_lock lock(mutex_);
  if (after < 0) {
    after = head_seq_;
  }
  auto found = Collect(after, visible);
  if (!found.empty()) {
    lock.unlock();
    int64_t last = found.back().seq;
    answer(std::move(found), last);
    return;
  }
  uint64_t id = next_waiter_++;
  Waiter& waiter = waiters_[id];
  waiter.after = after;
  waiter.visible = std::move(visible);
  waiter.answer = std::move(answer);
  waiter.timer = scheduler_.After(hold_, [this, id] {
    Answer expired;
    int64_t last = 0;
    {
      std::lock_guard held(mutex_);
      auto waiting = waiters_.find(id);
      if (waiting == waiters_.end()) {
        return;
      }
      expired = std::move(waiting->second.answer);
      last = waiting->second.after;
      waiters_.erase(waiting);
    }
    expired({}, last);
  });
}

size_t EventStream::waiting() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

int64_t EventStream::head() const {
  std::lock_guard lock(mutex_);
  return head_seq_;
}

std::string ServerSentEvents(const std::vector<LiveEvent>& events, int64_t last_seq,
                             std::chrono::milliseconds retry) {
  std::string body = "retry: " + std::to_string(retry.count()) + "\n\n";
  for (const LiveEvent& event : events) {
    Json data = {{"seq", event.seq},
                 {"at", event.at != 0 ? FormatRfc3339(FromUnixSeconds(event.at)) : ""},
                 {"kind", event.kind},
                 {"subject", event.subject}};
    body += "id: " + std::to_string(event.seq) +
            "\ndata: " + data.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
  }
  if (events.empty()) {
    body += "id: " + std::to_string(last_seq) + "\n\n";
  }
  return body;
}

}  // namespace concierge::api
