#include "common/simulated_clock.h"

#include <algorithm>
#include <limits>

namespace concierge {

TimerId SimulatedClock::After(std::chrono::milliseconds delay, Task task) {
  int64_t due =
      now_.load() + std::chrono::microseconds(std::max(delay.count(), int64_t{0}) * 1000).count();
  std::lock_guard lock(mutex_);
  TimerId id = next_id_++;
  timers_.emplace(Key{due, id}, std::move(task));
  return id;
}

void SimulatedClock::Cancel(TimerId id) {
  std::lock_guard lock(mutex_);
  std::erase_if(timers_, [id](const auto& entry) { return entry.first.second == id; });
}

bool SimulatedClock::FireNextDueBy(int64_t limit) {
  Task task;
  {
    std::lock_guard lock(mutex_);
    if (timers_.empty() || timers_.begin()->first.first > limit) {
      return false;
    }
    auto first = timers_.begin();
    // Time never runs backwards: a timer set "0 ms from now" fires at now.
    now_.store(std::max(now_.load(), first->first.first));
    task = std::move(first->second);
    timers_.erase(first);
  }
  // Run outside the lock: a task may set or cancel timers.
  task();
  return true;
}

void SimulatedClock::Advance(std::chrono::microseconds by) {
  int64_t target = now_.load() + by.count();
  while (FireNextDueBy(target)) {
  }
  now_.store(std::max(now_.load(), target));
}

bool SimulatedClock::AdvanceToNextTimer() {
  return FireNextDueBy(std::numeric_limits<int64_t>::max());
}

void SimulatedClock::RunUntil(const std::function<bool()>& done) {
  while (!done() && AdvanceToNextTimer()) {
  }
}

size_t SimulatedClock::PendingTimers() const {
  std::lock_guard lock(mutex_);
  return timers_.size();
}

}  // namespace concierge
