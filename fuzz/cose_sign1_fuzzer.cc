// Property: decoding any bytes as COSE_Sign1 never crashes; what decodes can be verified
// (and is refused under an unrelated key), and a decoded payload signs and decodes again
// unchanged.
#include "cose/sign1.h"
#include "crypto/key.h"
#include "fuzz/fuzz_check.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const crypto::PrivateKey key = crypto::PrivateKey::GenerateP256().value();
  auto message = cose::DecodeSign1(ByteSpan(data, size));
  if (!message) {
    return 0;
  }
  Bytes detached = ToBytes("detached");
  FUZZ_CHECK(!cose::VerifySign1(*message, key.get(), {}, &detached));
  if (const std::optional<Bytes>& payload = message->payload; payload.has_value()) {
    auto signed_again = cose::SignSign1(key.get(), *payload);
    FUZZ_CHECK(signed_again.has_value());
    auto decoded = cose::DecodeSign1(*signed_again, cose::TagRule::kRequired);
    FUZZ_CHECK(decoded.has_value() && decoded->payload == message->payload);
    FUZZ_CHECK(cose::VerifySign1(*decoded, key.get()).has_value());
  }
  return 0;
}
