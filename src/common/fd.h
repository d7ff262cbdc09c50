#pragma once

namespace concierge {

// Fd owns one file descriptor (closed on destruction).
class Fd {
 public:
  Fd() = default;

  explicit Fd(int fd) : fd_(fd) {}

  Fd(Fd&& other) noexcept : fd_(other.Release()) {}

  Fd& operator=(Fd&& other) noexcept;
  ~Fd();

  int get() const { return fd_; }

  int Release();

  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace concierge
