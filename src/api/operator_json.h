#pragma once

#include "common/clock.h"
#include "common/json.h"
#include "operators/operator_desk.h"

namespace concierge::api {

// The one JSON form of operators and their one-time codes, for the management API and the
// command line's --json alike.
Json OperatorJson(const operators::Operator& holder, SystemTime now);
Json InvitationJson(const operators::Invitation& invitation);

}  // namespace concierge::api
