#include "common/token_buckets.h"

#include <algorithm>

namespace concierge {

double TokenBucket::Tokens(SystemTime now) {
  if (!started_) {
    started_ = true;
    updated_ = now;
    return tokens_;
  }
  if (now > updated_) {
    double earned = std::chrono::duration<double>(now - updated_) /
                    std::chrono::duration<double>(limits_.refill);
    tokens_ = std::min(limits_.burst, tokens_ + earned);
    updated_ = now;
  }
  return tokens_;
}

bool TokenBucket::Take(SystemTime now) {
  if (Tokens(now) < 1) {
    return false;
  }
  tokens_ -= 1;
  return true;
}

void TokenBucket::Spend(SystemTime now) {
  tokens_ = std::max(0.0, Tokens(now) - 1);
}

double TokenBucket::SecondsUntilToken(SystemTime now) {
  double missing = 1 - Tokens(now);
  if (missing <= 0) {
    return 0;
  }
  return missing * std::chrono::duration<double>(limits_.refill).count();
}

TokenBucket& SourceBuckets::At(const std::string& source) {
  auto found = buckets_.find(source);
  if (found != buckets_.end()) {
    recency_.splice(recency_.begin(), recency_, found->second.place);
    return found->second.bucket;
  }
  if (buckets_.size() >= max_sources_) {
    buckets_.erase(recency_.back());
    recency_.pop_back();
  }
  recency_.push_front(source);
  auto [inserted, _] = buckets_.emplace(source, Entry{TokenBucket(limits_), recency_.begin()});
  return inserted->second.bucket;
}

}  // namespace concierge
