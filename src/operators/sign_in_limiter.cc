#include "operators/sign_in_limiter.h"

#include <algorithm>
#include <cmath>

namespace concierge::operators {

void SignInLimiter::Refill(Bucket& bucket, int burst, std::chrono::seconds refill) const {
  SystemTime now = clock_.Now();
  double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  if (elapsed > 0) {
    bucket.tokens =
        std::min<double>(burst, bucket.tokens + elapsed / static_cast<double>(refill.count()));
    bucket.updated = now;
  }
}

SignInLimiter::Bucket& SignInLimiter::SourceBucket(const std::string& source) {
  auto found = sources_.find(source);
  if (found != sources_.end()) {
    Refill(found->second, limits_.burst_per_source, limits_.refill_per_source);
    return found->second;
  }
  if (sources_.size() >= limits_.max_sources) {
    auto oldest = std::ranges::min_element(sources_, {},
                                           [](const auto& entry) { return entry.second.updated; });
    sources_.erase(oldest);
  }
  Bucket& bucket = sources_[source];
  bucket.tokens = limits_.burst_per_source;
  bucket.updated = clock_.Now();
  return bucket;
}

Status SignInLimiter::Check(const std::string& source) {
  std::lock_guard lock(mutex_);
  if (!total_started_) {
    total_ = {static_cast<double>(limits_.burst_total), clock_.Now()};
    total_started_ = true;
  }
  Refill(total_, limits_.burst_total, limits_.refill_total);
  Bucket& bucket = SourceBucket(source);
  auto wait = [](const Bucket& empty, std::chrono::seconds refill) {
    return static_cast<int64_t>(
        std::ceil((1 - empty.tokens) * static_cast<double>(refill.count())));
  };
  if (bucket.tokens < 1) {
    return MakeError(ErrorCode::kRateLimited,
                     "too many failed sign-ins from " + source + " (at most " +
                         std::to_string(limits_.burst_per_source) + ", then one per " +
                         std::to_string(limits_.refill_per_source.count()) + " s); try again in " +
                         std::to_string(wait(bucket, limits_.refill_per_source)) + " s");
  }
  if (total_.tokens < 1) {
    return MakeError(ErrorCode::kRateLimited,
                     "too many failed sign-ins on this site (at most " +
                         std::to_string(limits_.burst_total) + ", then one per " +
                         std::to_string(limits_.refill_total.count()) + " s); try again in " +
                         std::to_string(wait(total_, limits_.refill_total)) + " s");
  }
  return OkStatus();
}

void SignInLimiter::Failed(const std::string& source) {
  std::lock_guard lock(mutex_);
  Bucket& bucket = SourceBucket(source);
  bucket.tokens = std::max(0.0, bucket.tokens - 1);
  total_.tokens = std::max(0.0, total_.tokens - 1);
}

}  // namespace concierge::operators
