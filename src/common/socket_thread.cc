#include "common/socket_thread.h"

#include <sys/eventfd.h>
#include <unistd.h>

namespace concierge {

SocketThread::SocketThread() : wake_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

SocketThread::~SocketThread() {
  Stop();
}

void SocketThread::Start(std::function<void()> loop) {
  thread_ = std::thread(std::move(loop));
}

void SocketThread::Stop() {
  stop_ = true;
  uint64_t one = 1;
  (void)!write(wake_.get(), &one, sizeof(one));
  if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace concierge
