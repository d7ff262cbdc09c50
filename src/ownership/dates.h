#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "common/clock.h"

namespace concierge::ownership {

// Every date in the ownership formats (chain entries, owners' statements, tenants' requests) is
// Unix milliseconds, UTC. Decoders refuse one outside the years 0000 to 9999.

// A signed ownership message reaches the party that records it (the MASA, or a site for tenants'
// requests) soon after it is signed. Clocks may disagree by kMaxClockSkew; a message may wait
// kMaxSubmissionAge (signed offline, carried, submitted later).
inline constexpr std::chrono::minutes kMaxClockSkew{5};
inline constexpr std::chrono::hours kMaxSubmissionAge{24};

// CheckDecodedDate refuses a date outside the years 0000 to 9999, naming `what`.
Status CheckDecodedDate(int64_t unix_millis, std::string_view what);

// CheckSubmissionDate refuses a date more than kMaxClockSkew ahead of `now` or more than
// kMaxSubmissionAge behind it, naming `what` and the limit it broke. A party that records dated
// messages checks each new one with it before recording, so a message dated in the far future
// cannot block every later one (they would all be "dated before" it).
Status CheckSubmissionDate(int64_t unix_millis, SystemTime now, std::string_view what);

}  // namespace concierge::ownership
