#include "common/error.h"

#include <cstring>
#include <iterator>

namespace concierge {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kBadFormat:
      return "bad format";
    case ErrorCode::kTooLarge:
      return "too large";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "permission denied";
    case ErrorCode::kSecurity:
      return "security check failed";
    case ErrorCode::kFailedPrecondition:
      return "failed precondition";
    case ErrorCode::kAlreadyExists:
      return "already exists";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kRateLimited:
      return "rate limited";
    case ErrorCode::kInternal:
      return "internal error";
  }
  return "unknown";
}

Error Error::WithContext(std::string_view context) const {
  std::string message(context);
  message += ": ";
  message += message_;
  return Error(code_, std::move(message));
}

std::string Error::ToString() const {
  std::string out(ErrorCodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

int ExitCodeFor(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kBadFormat:
    case ErrorCode::kTooLarge:
      return 2;
    default:
      return 1;
  }
}

namespace {

// kStatusMap is the one place an error kind meets the protocols' status codes. The first row
// for a code is what a server answers; every row is read back when a peer answers.
struct StatusRow {
  ErrorCode code;
  int http;
  CoapCode coap;
};

constexpr StatusRow kStatusMap[] = {
    {ErrorCode::kBadFormat, 400, {4, 0}},        {ErrorCode::kInvalidArgument, 400, {4, 0}},
    {ErrorCode::kBadFormat, 406, {4, 6}},        {ErrorCode::kBadFormat, 415, {4, 15}},
    {ErrorCode::kTooLarge, 413, {4, 13}},        {ErrorCode::kNotFound, 404, {4, 4}},
    {ErrorCode::kPermissionDenied, 403, {4, 3}}, {ErrorCode::kUnauthenticated, 401, {4, 1}},
    {ErrorCode::kSecurity, 403, {4, 3}},         {ErrorCode::kFailedPrecondition, 409, {4, 9}},
    {ErrorCode::kAlreadyExists, 409, {4, 9}},    {ErrorCode::kTimeout, 504, {5, 4}},
    {ErrorCode::kUnavailable, 503, {5, 3}},      {ErrorCode::kRateLimited, 429, {4, 29}},
    {ErrorCode::kInternal, 500, {5, 0}},
};

const StatusRow& RowFor(ErrorCode code) {
  for (const auto& row : kStatusMap) {
    if (row.code == code) {
      return row;
    }
  }
  return kStatusMap[std::size(kStatusMap) - 1];
}

}  // namespace

int HttpStatusFor(const Error& error) {
  return RowFor(error.code()).http;
}

CoapCode CoapCodeFor(const Error& error) {
  return RowFor(error.code()).coap;
}

ErrorCode ErrorCodeForHttpStatus(int status) {
  for (const auto& row : kStatusMap) {
    if (row.http == status) {
      return row.code;
    }
  }
  return ErrorCode::kUnavailable;
}

ErrorCode ErrorCodeForCoapCode(CoapCode code) {
  for (const auto& row : kStatusMap) {
    if (row.coap.code_class == code.code_class && row.coap.detail == code.detail) {
      return row.code;
    }
  }
  return ErrorCode::kUnavailable;
}

std::string ErrnoText(int error_number) {
  char buffer[256];
  // GNU strerror_r returns the message, which may or may not be in buffer.
  return strerror_r(error_number, buffer, sizeof(buffer));
}

}  // namespace concierge
