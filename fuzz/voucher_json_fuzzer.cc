// Property: a voucher or voucher-request that decodes re-encodes to JSON that decodes to the
// same value.
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "voucher/voucher.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto v = voucher::DecodeVoucherJson(text)) {
    std::string encoded = voucher::EncodeVoucherJson(*v);
    auto again = voucher::DecodeVoucherJson(encoded);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(voucher::EncodeVoucherJson(*again) == encoded);
  }
  if (auto r = voucher::DecodeVoucherRequestJson(text)) {
    std::string encoded = voucher::EncodeVoucherRequestJson(*r);
    auto again = voucher::DecodeVoucherRequestJson(encoded);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(voucher::EncodeVoucherRequestJson(*again) == encoded);
  }
  return 0;
}
