#pragma once

#include <memory>

#include "common/scheduler.h"

namespace concierge::loop {

// EventLoop is the Scheduler on real time: a Boost.Asio io_context whose timers fire on the
// steady clock. Whoever owns it drives it with RunUntil; tasks and timers run on that thread.
// After and Cancel may be called from any thread.
class EventLoop final : public Scheduler {
 public:
  EventLoop();
  ~EventLoop() override;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  TimerId After(std::chrono::milliseconds delay, Task task) override;
  void Cancel(TimerId id) override;
  void RunUntil(const std::function<bool()>& done) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace concierge::loop
