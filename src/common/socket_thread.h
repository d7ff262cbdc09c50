#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "common/fd.h"

namespace concierge {

// SocketThread runs a socket loop on a thread of its own: the loop waits on wake_fd() beside
// its sockets and returns once stopping() is true. Destroying it (or Stop) wakes the loop
// through that eventfd and joins it; an owner declares it last, so that the loop has ended
// before anything it touches goes away.
class SocketThread {
 public:
  SocketThread();
  ~SocketThread();
  SocketThread(const SocketThread&) = delete;
  SocketThread& operator=(const SocketThread&) = delete;

  // valid is false when the eventfd could not be made (no descriptors left).
  bool valid() const { return wake_.valid(); }

  int wake_fd() const { return wake_.get(); }

  bool stopping() const { return stop_; }

  void Start(std::function<void()> loop);
  // Stop ends the loop and waits for it; again, it does nothing.
  void Stop();

 private:
  Fd wake_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace concierge
