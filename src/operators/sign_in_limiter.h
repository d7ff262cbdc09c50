#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/error.h"
#include "common/token_buckets.h"

namespace concierge::operators {

struct SignInLimits {
  // Failed sign-ins one source may make in a burst, and how often it earns one more.
  int burst_per_source = 5;
  std::chrono::seconds refill_per_source{60};
  // The same for all sources together, so many addresses cannot guess together unchecked.
  int burst_total = 100;
  std::chrono::seconds refill_total{1};
  // Sources remembered at once; the one unseen longest is forgotten first.
  size_t max_sources = 4096;
};

// SignInLimiter counts failed sign-ins in token buckets, per source address and for all
// sources together, on an injected clock. A source with no tokens left is refused before its
// code is even looked at. Thread-safe.
class SignInLimiter {
 public:
  SignInLimiter(const Clock& clock, SignInLimits limits)
      : clock_(clock),
        limits_(limits),
        sources_({static_cast<double>(limits.burst_per_source), limits.refill_per_source},
                 limits.max_sources),
        total_({static_cast<double>(limits.burst_total), limits.refill_total}) {}

  // Check refuses (kRateLimited, naming the wait) a source that has used up its failures.
  Status Check(const std::string& source);
  // Failed takes one token from the source's bucket and from the total's.
  void Failed(const std::string& source);

 private:
  const Clock& clock_;
  SignInLimits limits_;
  std::mutex mutex_;
  SourceBuckets sources_;
  TokenBucket total_;
};

}  // namespace concierge::operators
