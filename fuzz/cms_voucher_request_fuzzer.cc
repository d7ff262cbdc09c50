// Property: whatever opens as a signed voucher-request has a signer whose signature holds, and
// its JSON re-encodes to a request that decodes again. The same input also goes through the
// certs-only and detached-signature parsers.
#include "fuzz/fuzz_check.h"
#include "voucher/voucher.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan input(data, size);
  if (auto request = voucher::OpenVoucherRequest(input, voucher::RequestFrom::kRegistrar)) {
    FUZZ_CHECK(request->signer.get() != nullptr);
    auto again =
        voucher::DecodeVoucherRequestJson(voucher::EncodeVoucherRequestJson(request->value));
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->serial_number == request->value.serial_number);
  }
  if (auto v = voucher::OpenVoucher(input)) {
    FUZZ_CHECK(!v->value.serial_number.empty() || v->value.serial_number.empty());
    FUZZ_CHECK(v->signer.get() != nullptr);
  }
  (void)crypto::ParseCertsOnly(input);
  // The same bytes as a detached signature (a MUD file's .p7s) over a fixed content.
  static constexpr uint8_t kContent[] = {'{', '}'};
  (void)crypto::CmsVerifyDetached(kContent, input);
  return 0;
}
