// Property: the EST-coaps and cBRSKI payloads a site or a pledge reads from a peer never crash
// their readers: CBOR status telemetry (/vs, /es), multipart-core (/crts), which round-trips,
// and DER certificates (/sen answers, /crts 287).
#include "coap/multipart_core.h"
#include "crypto/certificate.h"
#include "fuzz/fuzz_check.h"
#include "voucher/telemetry.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan input(data, size);
  if (auto report = voucher::DecodeStatusCbor(input, voucher::StatusKind::kEnrollStatus)) {
    auto again = voucher::DecodeStatusCbor(voucher::EncodeStatusCbor(*report),
                                           voucher::StatusKind::kEnrollStatus);
    FUZZ_CHECK(again.has_value() && again->success == report->success &&
               again->reason == (report->success ? "" : report->reason));
  }
  if (auto parts = coap::ParseMultipartCore(input)) {
    auto encoded = coap::EncodeMultipartCore(*parts);
    FUZZ_CHECK(encoded.has_value());
    auto again = coap::ParseMultipartCore(*encoded);
    FUZZ_CHECK(again.has_value() && *again == *parts);
  }
  (void)crypto::Certificate::FromDer(input);
  return 0;
}
