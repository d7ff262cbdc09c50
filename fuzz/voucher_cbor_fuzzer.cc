// Property: decoding any bytes as a CBOR voucher or voucher-request never crashes, and what
// decodes encodes to bytes that decode to the same encoding again (the codec is a fixed point
// after one round, whatever mix of SIDs, names and tags it was given).
#include "fuzz/fuzz_check.h"
#include "voucher/voucher_cbor.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan input(data, size);
  if (auto request = voucher::DecodeVoucherRequestCbor(input)) {
    auto encoded = voucher::EncodeVoucherRequestCbor(*request);
    FUZZ_CHECK(encoded.has_value());
    auto again = voucher::DecodeVoucherRequestCbor(*encoded);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(voucher::EncodeVoucherRequestCbor(*again).value() == *encoded);
  }
  if (auto v = voucher::DecodeVoucherCbor(input)) {
    auto encoded = voucher::EncodeVoucherCbor(*v);
    FUZZ_CHECK(encoded.has_value());
    auto again = voucher::DecodeVoucherCbor(*encoded);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(voucher::EncodeVoucherCbor(*again).value() == *encoded);
  }
  return 0;
}
