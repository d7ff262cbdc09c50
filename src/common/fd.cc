#include "common/fd.h"

#include <unistd.h>

namespace concierge {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = other.Release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

int Fd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

}  // namespace concierge
