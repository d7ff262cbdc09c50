#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/error.h"

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
  SignInLimiter(const Clock& clock, SignInLimits limits) : clock_(clock), limits_(limits) {}

  // Check refuses (kRateLimited, naming the wait) a source that has used up its failures.
  Status Check(const std::string& source);
  // Failed takes one token from the source's bucket and from the total's.
  void Failed(const std::string& source);

 private:
  struct Bucket {
    double tokens = 0;
    SystemTime updated;
  };

  // Refill brings a bucket up to now; a new bucket starts full.
  void Refill(Bucket& bucket, int burst, std::chrono::seconds refill) const;
  Bucket& SourceBucket(const std::string& source);

  const Clock& clock_;
  SignInLimits limits_;
  std::mutex mutex_;
  std::map<std::string, Bucket> sources_;
  Bucket total_;
  bool total_started_ = false;
};

}  // namespace concierge::operators
