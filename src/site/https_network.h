#pragma once

#include "site/site.h"

namespace concierge::site {

// HttpsNetwork is the production Network: MASAs over HTTPS with the registrar's certificate as
// client identity, authenticated by the trusted makers' CAs as the store holds them at each
// call; MUD files over HTTPS against the system's trust store plus the site's anchors; DNS
// from the site's configured servers or resolv.conf.
Network HttpsNetwork();

}  // namespace concierge::site
