#pragma once

#include <atomic>

#include "common/clock.h"

namespace concierge::testing {

// FakeClock is a Clock tests move by hand. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(SystemTime start = FromUnixSeconds(1800000000)) : now_(ToUnixSeconds(start)) {}

  SystemTime Now() const override { return FromUnixSeconds(now_.load()); }

  void Advance(std::chrono::seconds by) { now_ += by.count(); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace concierge::testing
