#include "operators/sign_in_limiter.h"

#include <cmath>

namespace concierge::operators {

Status SignInLimiter::Check(const std::string& source) {
  std::lock_guard lock(mutex_);
  SystemTime now = clock_.Now();
  auto wait = [now](TokenBucket& empty) {
    return std::to_string(static_cast<int64_t>(std::ceil(empty.SecondsUntilToken(now))));
  };
  TokenBucket& bucket = sources_.At(source);
  if (bucket.Tokens(now) < 1) {
    return MakeError(ErrorCode::kRateLimited,
                     "too many failed sign-ins from " + source + " (at most " +
                         std::to_string(limits_.burst_per_source) + ", then one per " +
                         std::to_string(limits_.refill_per_source.count()) + " s); try again in " +
                         wait(bucket) + " s");
  }
  if (total_.Tokens(now) < 1) {
    return MakeError(ErrorCode::kRateLimited, "too many failed sign-ins on this site (at most " +
                                                  std::to_string(limits_.burst_total) +
                                                  ", then one per " +
                                                  std::to_string(limits_.refill_total.count()) +
                                                  " s); try again in " + wait(total_) + " s");
  }
  return OkStatus();
}

void SignInLimiter::Failed(const std::string& source) {
  std::lock_guard lock(mutex_);
  SystemTime now = clock_.Now();
  sources_.At(source).Spend(now);
  total_.Spend(now);
}

}  // namespace concierge::operators
