#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace concierge {

// ErrorCode is the project's small, fixed set of failure kinds. Each maps once to an exit
// status, an HTTP status and a CoAP response code.
enum class ErrorCode {
  kInvalidArgument,     // the caller asked for something malformed (bad flag, bad value)
  kBadFormat,           // outside bytes failed to parse
  kTooLarge,            // outside bytes exceeded a size bound
  kNotFound,            // the named thing does not exist
  kUnauthenticated,     // the requester did not prove who it is (no, stale or forged credential)
  kPermissionDenied,    // policy refuses this requester
  kSecurity,            // a signature, chain, nonce or binding check failed
  kFailedPrecondition,  // the system is not in a state where this is allowed
  kAlreadyExists,
  kTimeout,
  kUnavailable,  // a peer or resource could not be reached; retrying may help
  kRateLimited,  // the requester asked too often; retrying later may help
  kInternal,
};

std::string_view ErrorCodeName(ErrorCode code);

// Error carries a code and a human message naming what was wrong.
class [[nodiscard]] Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }

  const std::string& message() const { return message_; }

  // WithContext returns this error with "context: " prepended to the message.
  Error WithContext(std::string_view context) const;

  std::string ToString() const;

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename T>
using Result = std::expected<T, Error>;

using Status = std::expected<void, Error>;

inline std::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error(code, std::move(message)));
}

inline Status OkStatus() {
  return {};
}

// ExitCodeFor is the CLI contract: 2 for bad usage or input, 1 for any other failure.
int ExitCodeFor(const Error& error);

// CoapCode is a CoAP response code, class.detail (RFC 7252 §5.9): 4.04 is {4, 4}.
struct CoapCode {
  int code_class = 0;
  int detail = 0;
};

// The status a server answers an error with, and the error kind a peer's status means. One
// table in error.cc holds both directions for HTTP and CoAP; a status it does not list reads
// as kUnavailable.
int HttpStatusFor(const Error& error);
CoapCode CoapCodeFor(const Error& error);
ErrorCode ErrorCodeForHttpStatus(int status);
ErrorCode ErrorCodeForCoapCode(CoapCode code);

// ErrnoText describes an errno value (thread-safe, unlike strerror).
std::string ErrnoText(int error_number);

}  // namespace concierge

// The macros below take declarations and function names as arguments, which cannot be
// parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CONCIERGE_CONCAT_INNER(a, b) a##b
#define CONCIERGE_CONCAT(a, b) CONCIERGE_CONCAT_INNER(a, b)

// RETURN_IF_ERROR(expr) returns expr's error from the enclosing function, if it has one.
#define RETURN_IF_ERROR(expr)                                       \
  do {                                                              \
    if (auto concierge_status_ = (expr); !concierge_status_) {      \
      return std::unexpected(std::move(concierge_status_).error()); \
    }                                                               \
  } while (false)

// RETURN_IF_ERROR_CTX(expr, context) does the same, prefixing the message with context.
#define RETURN_IF_ERROR_CTX(expr, context)                                    \
  do {                                                                        \
    if (auto concierge_status_ = (expr); !concierge_status_) {                \
      return std::unexpected(concierge_status_.error().WithContext(context)); \
    }                                                                         \
  } while (false)

#define CONCIERGE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr, wrap) \
  auto tmp = (expr);                                          \
  if (!tmp) {                                                 \
    return std::unexpected(wrap(std::move(tmp).error()));     \
  }                                                           \
  lhs = std::move(*tmp)

#define CONCIERGE_NO_CONTEXT(e) (e)

// ASSIGN_OR_RETURN(lhs, expr) evaluates a Result; on error returns it, else moves the value
// into lhs (which may be a declaration).
#define ASSIGN_OR_RETURN(lhs, expr)                                                         \
  CONCIERGE_ASSIGN_OR_RETURN_IMPL(CONCIERGE_CONCAT(concierge_result_, __LINE__), lhs, expr, \
                                  CONCIERGE_NO_CONTEXT)

#define ASSIGN_OR_RETURN_CTX(lhs, expr, context)                \
  CONCIERGE_ASSIGN_OR_RETURN_IMPL(                              \
      CONCIERGE_CONCAT(concierge_result_, __LINE__), lhs, expr, \
      [&](const ::concierge::Error& e) { return e.WithContext(context); })
// NOLINTEND(bugprone-macro-parentheses)
