// Property: any datagram a join proxy or a registrar's JPY front receives is decoded without
// crashing; what decodes is within the limits and re-encodes to a message that decodes to the
// same header and content; and no such datagram gets past a proxy as an answer to a pledge,
// since its header was not sealed by the proxy's key.
#include "common/random.h"
#include "fuzz/fuzz_check.h"
#include "joinproxy/jpy.h"
#include "joinproxy/stateless_proxy.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static SystemClock clock;
  static CryptoRandom random;
  static joinproxy::StatelessProxy proxy(clock, random);
  ByteSpan datagram(data, size);
  auto message = joinproxy::DecodeJpy(datagram);
  if (message) {
    FUZZ_CHECK(message->header.size() <= joinproxy::kMaxJpyHeader);
    FUZZ_CHECK(message->content.size() <= joinproxy::kMaxJpyContent);
    auto again = joinproxy::DecodeJpy(joinproxy::EncodeJpy(message->header, message->content));
    FUZZ_CHECK(again && again->header == message->header && again->content == message->content);
  }
  FUZZ_CHECK(!proxy.FromRegistrar(datagram));
  return 0;
}
