#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "voucher/voucher.h"

namespace concierge::voucher {

// YANG schema item identifiers of the two containers (draft-ietf-anima-rfc8366bis, the
// ietf-voucher and ietf-voucher-request .sid files). Leaves are keyed by their delta from these.
inline constexpr int64_t kVoucherSid = 2451;
inline constexpr int64_t kVoucherRequestSid = 2501;

// CBOR encodings of vouchers and voucher-requests (RFC 9254, as cBRSKI uses it): a one-entry
// map from the container's absolute SID to a map keyed by SID deltas. Encoders write the
// shortest form: SID keys, assertion as its enum integer, date-times as RFC 3339 text.
// Decoders also accept what other implementations send: leaf names in place of SIDs (mixed
// keys are allowed), the container's name in place of its SID, absolute SIDs under tag 47, and
// the assertion as text. An unknown key or a repeated leaf is refused, naming it.
Result<Bytes> EncodeVoucherCbor(const Voucher& voucher);
Result<Voucher> DecodeVoucherCbor(ByteSpan cbor);

Result<Bytes> EncodeVoucherRequestCbor(const VoucherRequest& request);
Result<VoucherRequest> DecodeVoucherRequestCbor(ByteSpan cbor);

}  // namespace concierge::voucher
