#include "common/error.h"

#include <cstring>

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

int HttpStatusFor(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kBadFormat:
      return 400;
    case ErrorCode::kTooLarge:
      return 413;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kSecurity:
      return 403;
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kTimeout:
      return 504;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

std::string ErrnoText(int error_number) {
  char buffer[256];
  // GNU strerror_r returns the message, which may or may not be in buffer.
  return strerror_r(error_number, buffer, sizeof(buffer));
}

}  // namespace concierge
