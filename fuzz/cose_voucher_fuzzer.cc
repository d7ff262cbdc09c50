// Property: opening any bytes as a COSE voucher or voucher-request never crashes; nothing
// verifies under a key that did not sign it; and a voucher a registrar would forward keeps its
// payload and signature and carries no unprotected header.
#include "cose/sign1.h"
#include "crypto/key.h"
#include "fuzz/fuzz_check.h"
#include "voucher/cose_voucher.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan input(data, size);
  // Certificates the message carries are tried; a stranger's key signs nothing here.
  (void)voucher::OpenCoseVoucherRequest(input, voucher::RequestFrom::kRegistrar, {});
  (void)voucher::OpenCoseVoucherRequest(input, voucher::RequestFrom::kPledge, {});
  (void)voucher::OpenCoseVoucher(input, {});
  auto forwarded = voucher::ForwardableVoucher(input);
  if (forwarded) {
    auto original = cose::DecodeSign1(input);
    auto stripped = cose::DecodeSign1(*forwarded, cose::TagRule::kRequired);
    FUZZ_CHECK(original.has_value() && stripped.has_value());
    FUZZ_CHECK(stripped->payload == original->payload);
    FUZZ_CHECK(stripped->signature == original->signature);
    FUZZ_CHECK(stripped->protected_bucket == original->protected_bucket);
    FUZZ_CHECK(stripped->unprotected_headers.x5bag.empty() &&
               stripped->unprotected_headers.key_id.empty());
  }
  return 0;
}
