#include "loop/event_loop.h"

#include <map>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace concierge::loop {

struct EventLoop::Impl {
  boost::asio::io_context io;
  std::mutex mutex;
  TimerId next_id = 1;
  std::map<TimerId, std::shared_ptr<boost::asio::steady_timer>> timers;
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {}

EventLoop::~EventLoop() = default;

TimerId EventLoop::After(std::chrono::milliseconds delay, Task task) {
  auto timer = std::make_shared<boost::asio::steady_timer>(impl_->io, delay);
  TimerId id = 0;
  {
    std::lock_guard lock(impl_->mutex);
    id = impl_->next_id++;
    impl_->timers.emplace(id, timer);
  }
  timer->async_wait(
      [impl = impl_.get(), id, task = std::move(task)](const boost::system::error_code& error) {
        {
          std::lock_guard lock(impl->mutex);
          impl->timers.erase(id);
        }
        if (!error) {
          task();
        }
      });
  return id;
}

void EventLoop::Cancel(TimerId id) {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->timers.find(id);
  if (it != impl_->timers.end()) {
    it->second->cancel();
    impl_->timers.erase(it);
  }
}

void EventLoop::RunUntil(const std::function<bool()>& done) {
  while (!done()) {
    if (impl_->io.run_one() == 0) {
      break;  // nothing left to run
    }
  }
  // run_one stops the context once it runs out of work; later calls must find it ready.
  impl_->io.restart();
}

}  // namespace concierge::loop
