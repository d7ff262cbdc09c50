#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <utility>

#include "common/clock.h"
#include "common/scheduler.h"

namespace concierge {

// SimulatedClock is a clock and a scheduler on simulated time: nothing moves until Advance(),
// which fires every timer that falls due, in order, with Now() at each timer's due time. Tests
// and the lab's simulations use it to run minutes of protocol in milliseconds. Now() is safe
// from any thread; timers run on the thread that advances the clock.
class SimulatedClock final : public Clock, public Scheduler {
 public:
  explicit SimulatedClock(SystemTime start = FromUnixSeconds(1800000000))
      : now_(start.time_since_epoch().count()) {}

  SystemTime Now() const override { return SystemTime(std::chrono::microseconds(now_.load())); }

  TimerId After(std::chrono::milliseconds delay, Task task) override;
  void Cancel(TimerId id) override;
  // RunUntil advances to each next timer in turn until done() holds or none is left.
  void RunUntil(const std::function<bool()>& done) override;

  // Advance moves time forward by `by`, firing the timers due on the way.
  void Advance(std::chrono::microseconds by);
  // AdvanceToNextTimer moves to the earliest timer and fires it; false when there is none.
  bool AdvanceToNextTimer();
  size_t PendingTimers() const;

 private:
  // Timers by (due time, id): ids grow, so timers due at one instant fire in the order set.
  using Key = std::pair<int64_t, TimerId>;

  // FireNextDueBy runs the earliest timer due at or before `limit`; false when there is none.
  bool FireNextDueBy(int64_t limit);

  std::atomic<int64_t> now_;  // microseconds since the Unix epoch
  mutable std::mutex mutex_;
  TimerId next_id_ = 1;
  std::map<Key, Task> timers_;
};

}  // namespace concierge
