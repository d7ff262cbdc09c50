// Property: decoding any bytes as an ownership chain never crashes; a chain that decodes has
// entries numbered from 0, each linked to the one before, and encodes to a chain that decodes
// to the same owner.
#include "fuzz/fuzz_check.h"
#include "ownership/chain.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ownership::OwnershipChain::Authorities authorities;
  auto chain = ownership::OwnershipChain::Decode(ByteSpan(data, size), authorities);
  if (!chain) {
    return 0;
  }
  for (size_t i = 0; i < chain->entries().size(); ++i) {
    FUZZ_CHECK(chain->entries()[i].index == i);
    FUZZ_CHECK(chain->entries()[i].previous_hash.size() == 32);
  }
  auto encoded = chain->Encode();
  FUZZ_CHECK(encoded.has_value());
  auto again = ownership::OwnershipChain::Decode(*encoded, authorities);
  FUZZ_CHECK(again.has_value() && again->owner_key() == chain->owner_key());
  FUZZ_CHECK(again->IsExtensionOf(*chain) && chain->IsExtensionOf(*again));
  return 0;
}
