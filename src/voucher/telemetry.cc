#include "voucher/telemetry.h"

#include "common/json.h"
#include "cose/cbor.h"

namespace concierge::voucher {

namespace {
Result<StatusReport> DecodeStatusObject(const Json& body, const std::string& what);
}  // namespace

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
  return DecodeStatusObject(body, what);
}

Result<StatusReport> DecodeStatusCbor(ByteSpan cbor, StatusKind kind) {
  std::string what(StatusKindName(kind));
  if (cbor.size() > kMaxStatusReportSize) {
    return MakeError(ErrorCode::kTooLarge, what + " is " + std::to_string(cbor.size()) +
                                               " bytes, more than the limit of " +
                                               std::to_string(kMaxStatusReportSize));
  }
  // libcbor's walk first bounds nesting, which nlohmann's recursive reader does not.
  if (auto checked = cose::DecodeCbor(cbor, what); !checked) {
    return std::unexpected(checked.error());
  }
  // A discarded value is nlohmann's "not CBOR"; it throws nothing when told not to.
  Json body = Json::from_cbor(cbor.begin(), cbor.end(), true, false);
  if (body.is_discarded() || !body.is_object()) {
    return MakeError(ErrorCode::kBadFormat, what + ": not a CBOR map");
  }
  return DecodeStatusObject(body, what);
}

Bytes EncodeStatusCbor(const StatusReport& report) {
  Json body{{"version", 1}, {"status", report.success}};
  if (!report.success) {
    body["reason"] = report.reason;
  }
  return Json::to_cbor(body);
}

namespace {

Result<StatusReport> DecodeStatusObject(const Json& body, const std::string& what) {
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

}  // namespace

}  // namespace concierge::voucher
