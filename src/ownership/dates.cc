#include "ownership/dates.h"

#include <string>

namespace concierge::ownership {

Status CheckDecodedDate(int64_t unix_millis, std::string_view what) {
  RETURN_IF_ERROR(TimeFromUnixMillis(unix_millis, what));
  return OkStatus();
}

Status CheckSubmissionDate(int64_t unix_millis, SystemTime now, std::string_view what) {
  RETURN_IF_ERROR(CheckDecodedDate(unix_millis, what));
  int64_t now_millis = ToUnixMillis(now);
  auto skew = std::chrono::duration_cast<std::chrono::milliseconds>(kMaxClockSkew).count();
  auto age = std::chrono::duration_cast<std::chrono::milliseconds>(kMaxSubmissionAge).count();
  std::string dated = std::string(what) + " is dated " + FormatRfc3339(FromUnixMillis(unix_millis));
  if (unix_millis > now_millis + skew) {
    return MakeError(ErrorCode::kInvalidArgument,
                     dated + ", more than 5 minutes ahead of the clock here (" +
                         FormatRfc3339(now) + "); check the signer's clock");
  }
  if (unix_millis < now_millis - age) {
    return MakeError(ErrorCode::kInvalidArgument,
                     dated + ", more than 24 hours before the clock here (" + FormatRfc3339(now) +
                         "); sign it again");
  }
  return OkStatus();
}

}  // namespace concierge::ownership
