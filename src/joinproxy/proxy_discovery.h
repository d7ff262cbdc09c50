#pragma once

#include <cstdint>
#include <optional>

#include "common/bytes.h"

namespace concierge::joinproxy {

// AnswerDiscovery is a join proxy's answer to a pledge's discovery request (RFC 7252 over
// UDP): `GET /.well-known/core` whose query matches `<>;brski-jp=JOIN_PORT` gets that link in
// a 2.05 (ACK to a CON, NON to a NON), telling the pledge to send DTLS to the address the
// answer came from, at join_port (draft-ietf-anima-constrained-join-proxy-20 §"Pledge discovery
// of Join Proxy"). Anything else, and any answer larger than its request (the socket may have
// been reached by multicast, where no answer may amplify), gets none.
std::optional<Bytes> AnswerDiscovery(ByteSpan request, uint16_t join_port);

}  // namespace concierge::joinproxy
