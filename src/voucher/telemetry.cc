#include "voucher/telemetry.h"

#include "common/json.h"

namespace concierge::voucher {

std::string_view StatusKindName(StatusKind kind) {
  return kind == StatusKind::kVoucherStatus ? "voucher_status" : "enrollstatus";
}

std::string EncodeStatusJson(const StatusReport& report) {
  Json body{{"version", 1}, {"status", report.success}};
  if (!report.success) {
    body["reason"] = report.reason;
  }
  return body.dump();
}

Result<StatusReport> DecodeStatusJson(std::string_view json, StatusKind kind) {
  std::string what(StatusKindName(kind));
  if (json.size() > kMaxStatusReportSize) {
    return MakeError(ErrorCode::kTooLarge, what + " is " + std::to_string(json.size()) +
                                               " bytes, more than the limit of " +
                                               std::to_string(kMaxStatusReportSize));
  }
  ASSIGN_OR_RETURN(Json body, ParseJsonObject(json, what));
  JsonObjectReader reader(body, what);
  ASSIGN_OR_RETURN(int64_t version, reader.RequiredInt("version"));
  if (version != 1) {
    return MakeError(ErrorCode::kBadFormat,
                     what + ".version: unsupported " + std::to_string(version));
  }
  if (!reader.Has("status") || !body["status"].is_boolean()) {
    return MakeError(ErrorCode::kBadFormat, what + ".status: expected true or false");
  }
  ASSIGN_OR_RETURN(std::string reason, reader.OptionalString("reason"));
  return StatusReport{body["status"].get<bool>(), reason.substr(0, kMaxStatusReasonSize)};
}

}  // namespace concierge::voucher
