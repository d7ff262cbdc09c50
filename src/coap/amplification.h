#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include "common/bytes.h"
#include "common/clock.h"

namespace concierge::coap {

// A server may send an unverified address at most this many times the bytes it received from
// it (RFC 9175 §2.4, after RFC 9000 §8).
inline constexpr size_t kAmplificationFactor = 3;

// EchoChallenges makes and checks Echo option values (RFC 9175, option 252) that prove a peer
// receives at the address it claims, keeping no state: the value is a timestamp and a MAC of
// it with that address (RFC 9175 Appendix A, the integrity-protected timestamp), 12 bytes:
// t0 (Unix seconds, 4 bytes big-endian) ‖ the first 8 bytes of HMAC-SHA-256(key, t0 ‖ address).
class EchoChallenges {
 public:
  static constexpr size_t kValueSize = 12;

  // key: secret and fresh for each start of the server (RFC 9175 asks for a new key at reboot).
  EchoChallenges(const Clock& clock, Bytes key, std::chrono::seconds lifetime)
      : clock_(clock), key_(std::move(key)), lifetime_(lifetime) {}

  Bytes Issue(std::string_view claimed_address) const;
  // Verify: the value was issued here for this address no longer than lifetime ago.
  bool Verify(ByteSpan echo, std::string_view claimed_address) const;

 private:
  Bytes Mac(uint32_t issued, std::string_view claimed_address) const;

  const Clock& clock_;
  Bytes key_;
  std::chrono::seconds lifetime_;
};

// What to do with an answer on plain (unauthenticated) CoAP.
enum class PlainVerdict {
  kAnswer,     // send it
  kChallenge,  // send 4.01 with an Echo value instead (small), answer when it comes back
  kSilence,    // send nothing
};

struct PlainExchange {
  size_t request_bytes = 0;    // the request's whole CoAP message
  size_t answer_bytes = 0;     // the answer's, as it would be sent
  size_t challenge_bytes = 0;  // a 4.01 with an Echo option, as it would be sent
  bool multicast = false;      // the request was sent to a group
  bool echo_verified = false;  // the request carried a valid Echo value for its source
};

// DecidePlainAnswer keeps every answer to an unverified unicast source within
// kAmplificationFactor times its request, challenging with Echo otherwise, and every answer to
// a multicast request no larger than the request itself (neither the factor nor Echo protects
// a victim from many servers at once: draft-irtf-t2trg-amplification-attacks §3); a multicast
// request whose answer would be larger gets none and the asker asks again by unicast.
PlainVerdict DecidePlainAnswer(const PlainExchange& exchange);

}  // namespace concierge::coap
