#pragma once

#include "common/json.h"
#include "registry/device_registry.h"
#include "site/site.h"

namespace concierge::api {

// MudStateJson is a device's MUD state, one JSON form for the management API and the command
// line: its URL and where it came from, the verified file (signer, when fetched, when due
// again, parser warnings) and the last refusal. The site's MUD state must be open (Site::Mud).
Json MudStateJson(site::Site& site, const registry::Device& device);

}  // namespace concierge::api
