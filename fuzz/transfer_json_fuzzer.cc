// Property: decoding any bytes as a transfer bundle or a move instruction never crashes; what
// decodes encodes to text that decodes to the same thing.
#include "fuzz/fuzz_check.h"
#include "ownership/transfer.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto bundle = ownership::DecodeBundle(text)) {
    auto again = ownership::DecodeBundle(ownership::EncodeBundle(*bundle));
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->new_owner_key == bundle->new_owner_key);
    FUZZ_CHECK(again->devices.size() == bundle->devices.size());
    for (size_t i = 0; i < bundle->devices.size(); ++i) {
      FUZZ_CHECK(again->devices[i].serial == bundle->devices[i].serial);
      FUZZ_CHECK(again->devices[i].chain == bundle->devices[i].chain);
    }
  }
  if (auto move = ownership::DecodeMoveInstruction(text)) {
    auto again = ownership::DecodeMoveInstruction(ownership::EncodeMoveInstruction(*move));
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->action == move->action && again->registrar_url == move->registrar_url &&
               again->chain == move->chain);
  }
  return 0;
}
