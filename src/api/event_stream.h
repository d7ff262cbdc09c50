#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/scheduler.h"
#include "store/audit_log.h"

namespace concierge::api {

// LiveEvent is one committed change as the dashboards hear it.
struct LiveEvent {
  int64_t seq = 0;
  int64_t at = 0;
  std::string kind;
  std::string subject;
};

// EventStream keeps the newest committed changes and answers the dashboards that wait for
// them (GET /api/v1/events, Server-Sent Events). A waiting dashboard holds no thread: its
// answer is a callback, given the events after the one it saw last as soon as one it may see
// commits, or an empty batch when the hold time runs out, after which its browser asks again.
// Thread-safe; Publish may be called on a committing thread with a store locked, as it only
// hands events on.
class EventStream {
 public:
  using Answer = std::function<void(std::vector<LiveEvent> events, int64_t last_seq)>;
  using Visible = std::function<bool(const std::string& subject)>;

  EventStream(Scheduler& scheduler, int64_t head_seq, size_t keep = 1024,
              std::chrono::milliseconds hold = std::chrono::seconds(25));
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  void Publish(const store::AuditRecord& record);
  // Wait answers with the events after `after` that visible admits. after < 0: from now on.
  // When events after it were already dropped (more than `keep` since), the answer holds a
  // single "stream.resync" event: the dashboard reloads what it shows.
  void Wait(int64_t after, Visible visible, Answer answer);
  size_t waiting() const;
  int64_t head() const;

 private:
  struct Waiter {
    int64_t after = 0;
    Visible visible;
    Answer answer;
    TimerId timer = 0;
  };

  // Collect gives the kept events after `after` that visible admits.
  std::vector<LiveEvent> Collect(int64_t after, const Visible& visible) const;

  Scheduler& scheduler_;
  const size_t keep_;
  const std::chrono::milliseconds hold_;
  mutable std::mutex mutex_;
  std::deque<LiveEvent> events_;
  int64_t head_seq_;
  uint64_t next_waiter_ = 1;
  std::map<uint64_t, Waiter> waiters_;
};

// ServerSentEvents renders a batch as a text/event-stream body: each event with its id (the
// chain's sequence number) and JSON data; an empty batch carries only the last id, so the
// browser asks again from there.
std::string ServerSentEvents(const std::vector<LiveEvent>& events, int64_t last_seq,
                             std::chrono::milliseconds retry);

}  // namespace concierge::api
