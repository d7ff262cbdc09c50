#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "common/error.h"

namespace concierge {

// Callback<T> receives the outcome of an operation that completes later (or at once).
template <typename T>
using Callback = std::function<void(Result<T>)>;

using TimerId = uint64_t;

// Scheduler is how protocol logic waits: it asks to be called back later and returns, and
// never sleeps. The event loop (loop::EventLoop) fires timers on real time; SimulatedClock fires
// them when a test advances it, so a wait of minutes takes no time at all.
class Scheduler {
 public:
  using Task = std::function<void()>;

  virtual ~Scheduler() = default;

  // After runs task once, delay from now, on the scheduler's thread.
  virtual TimerId After(std::chrono::milliseconds delay, Task task) = 0;
  // Cancel drops a timer that has not fired yet; cancelling a fired timer does nothing.
  virtual void Cancel(TimerId id) = 0;
  // RunUntil runs timers (and, in a real loop, I/O) until done() holds or nothing is left to
  // run. For the owner of the loop: a command that waits for one result, a test.
  virtual void RunUntil(const std::function<bool()>& done) = 0;
};

// Await starts an asynchronous operation and runs the scheduler until it completes. An
// operation that never calls back while work remains cannot happen; one that is left with
// nothing to run is an internal error rather than a hang.
template <typename T>
Result<T> Await(Scheduler& scheduler, const std::function<void(Callback<T>)>& start) {
  std::optional<Result<T>> outcome;
  start([&outcome](Result<T> result) { outcome.emplace(std::move(result)); });
  scheduler.RunUntil([&outcome] { return outcome.has_value(); });
  if (!outcome) {
    return MakeError(ErrorCode::kInternal, "an operation stopped without an outcome");
  }
  return std::move(*outcome);
}

}  // namespace concierge
