#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace concierge {

// BucketLimits: a bucket holds at most burst tokens and earns one back every refill.
struct BucketLimits {
  double burst = 1;
  std::chrono::microseconds refill{std::chrono::seconds(1)};
};

// TokenBucket is one rate limit on an injected time. A new bucket starts full.
class TokenBucket {
 public:
  explicit TokenBucket(BucketLimits limits) : limits_(limits), tokens_(limits.burst) {}

  // Tokens brings the bucket up to now and says how many it holds.
  double Tokens(SystemTime now);
  // Take removes one token if there is one; false leaves the bucket as it was.
  bool Take(SystemTime now);
  // Spend removes one token even if that empties it (a failure is counted after the fact).
  void Spend(SystemTime now);
  // SecondsUntilToken is how long until the bucket holds a whole token again.
  double SecondsUntilToken(SystemTime now);

 private:
  BucketLimits limits_;
  double tokens_;
  SystemTime updated_{};
  bool started_ = false;
};

// SourceBuckets keeps one TokenBucket per source (an address), at most max_sources of them:
// a new source beyond that pushes out the one unseen longest, in constant time, so a flood of
// forged sources costs memory and time that do not grow. Not thread-safe.
class SourceBuckets {
 public:
  SourceBuckets(BucketLimits limits, size_t max_sources)
      : limits_(limits), max_sources_(max_sources == 0 ? 1 : max_sources) {}

  // At is the source's bucket, new and full if the source was not remembered.
  TokenBucket& At(const std::string& source);

  size_t size() const { return buckets_.size(); }

 private:
  using Recency = std::list<std::string>;  // most recently seen first

  struct Entry {
    TokenBucket bucket;
    Recency::iterator place;
  };

  BucketLimits limits_;
  size_t max_sources_;
  Recency recency_;
  std::unordered_map<std::string, Entry> buckets_;
};

}  // namespace concierge
