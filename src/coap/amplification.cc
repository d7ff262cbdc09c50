#include "coap/amplification.h"

#include <openssl/crypto.h>

#include "crypto/key.h"

namespace concierge::coap {
namespace {

constexpr size_t kMacSize = EchoChallenges::kValueSize - 4;

uint32_t UnixSeconds32(SystemTime t) {
  return static_cast<uint32_t>(ToUnixSeconds(t));
}

}  // namespace

Bytes EchoChallenges::Mac(uint32_t issued, std::string_view claimed_address) const {
  Bytes input = {static_cast<uint8_t>(issued >> 24), static_cast<uint8_t>(issued >> 16),
                 static_cast<uint8_t>(issued >> 8), static_cast<uint8_t>(issued)};
  input.insert(input.end(), claimed_address.begin(), claimed_address.end());
  Bytes mac = crypto::HmacSha256(key_, input);
  mac.resize(kMacSize);
  return mac;
}

Bytes EchoChallenges::Issue(std::string_view claimed_address) const {
  uint32_t now = UnixSeconds32(clock_.Now());
  Bytes value = {static_cast<uint8_t>(now >> 24), static_cast<uint8_t>(now >> 16),
                 static_cast<uint8_t>(now >> 8), static_cast<uint8_t>(now)};
  Bytes mac = Mac(now, claimed_address);
  value.insert(value.end(), mac.begin(), mac.end());
  return value;
}

bool EchoChallenges::Verify(ByteSpan echo, std::string_view claimed_address) const {
  if (echo.size() != kValueSize) {
    return false;
  }
  uint32_t issued = (uint32_t{echo[0]} << 24) | (uint32_t{echo[1]} << 16) |
                    (uint32_t{echo[2]} << 8) | uint32_t{echo[3]};
  uint32_t now = UnixSeconds32(clock_.Now());
  // Unsigned: a value "from the future" wraps to a huge age and is refused too.
  if (now - issued > static_cast<uint32_t>(lifetime_.count())) {
    return false;
  }
  Bytes expected = Mac(issued, claimed_address);
  return CRYPTO_memcmp(expected.data(), echo.data() + 4, kMacSize) == 0;
}

PlainVerdict DecidePlainAnswer(const PlainExchange& exchange) {
  if (exchange.multicast) {
    return exchange.answer_bytes <= exchange.request_bytes ? PlainVerdict::kAnswer
                                                           : PlainVerdict::kSilence;
  }
  size_t budget = kAmplificationFactor * exchange.request_bytes;
  if (exchange.echo_verified || exchange.answer_bytes <= budget) {
    return PlainVerdict::kAnswer;
  }
  return exchange.challenge_bytes <= budget ? PlainVerdict::kChallenge : PlainVerdict::kSilence;
}

}  // namespace concierge::coap
