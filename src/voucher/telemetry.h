#pragma once

#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/error.h"

namespace concierge::voucher {

// Which BRSKI status telemetry a pledge reports (RFC 8995 §5.7 and §5.9.4).
enum class StatusKind { kVoucherStatus, kEnrollStatus };

std::string_view StatusKindName(StatusKind kind);  // "voucher_status", "enrollstatus"

// StatusReport is one telemetry message: success, or failure with a human reason.
struct StatusReport {
  bool success = true;
  std::string reason;  // empty on success
};

inline constexpr size_t kMaxStatusReportSize = size_t{16} * 1024;
inline constexpr size_t kMaxStatusReasonSize = 1024;

// The JSON form (version 1). Decoding bounds the size and keeps the first
// kMaxStatusReasonSize bytes of the reason.
std::string EncodeStatusJson(const StatusReport& report);
Result<StatusReport> DecodeStatusJson(std::string_view json, StatusKind kind);
// The CBOR form cBRSKI pledges send on /vs and /es: the same map, text keys.
Bytes EncodeStatusCbor(const StatusReport& report);
Result<StatusReport> DecodeStatusCbor(ByteSpan cbor, StatusKind kind);

}  // namespace concierge::voucher
