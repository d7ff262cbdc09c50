#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace concierge::http {

// Headers keeps names lower-cased; one value per name (later values replace earlier ones,
// which no header this project reads repeats).
using Headers = std::map<std::string, std::string>;

struct HttpRequest {
  std::string method;
  std::string target;
  Headers headers;
  std::string body;
  bool keep_alive = true;

  std::string Header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;
  bool keep_alive = true;

  std::string Header(const std::string& name) const;
};

HttpResponse MakeResponse(int status, std::string_view content_type, std::string body);
HttpResponse MakeErrorResponse(const Error& error);

// ErrorFromPeerStatus turns a peer's non-success answer into an Error carrying the peer's
// message, with the code HttpStatusFor would have mapped to that status.
Error ErrorFromPeerStatus(std::string_view peer, const HttpResponse& response);

std::string SerializeRequest(const HttpRequest& request, std::string_view host);
std::string SerializeResponse(const HttpResponse& response);

struct ParserLimits {
  size_t max_target_bytes = size_t{8} * 1024;   // the request target (URL)
  size_t max_header_bytes = size_t{16} * 1024;  // the start line and every header
  size_t max_body_bytes = size_t{256} * 1024;
};

// Which limit a message broke; a server answers 414, 431 or 413 for them (RFC 9110, 6585).
enum class BrokenLimit { kNone, kTarget, kHeaders, kBody };

// MessageParser turns bytes into one HTTP/1.1 request or response at a time, with size limits.
// Errors are kBadFormat (malformed) or kTooLarge (over a limit, named with what was sent).
class MessageParser {
 public:
  enum class Kind { kRequest, kResponse };
  MessageParser(Kind kind, ParserLimits limits);
  ~MessageParser();
  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

  // Feed consumes up to size bytes; returns how many were used. Complete() turns true once a
  // whole message has been read; bytes after it are left unconsumed.
  Result<size_t> Feed(const char* data, size_t size);
  bool Complete() const;
  // FinishOnEof tells the parser the peer closed the connection: a response read to the end of
  // the connection completes; a message cut short is kUnavailable, saying how far it got.
  Status FinishOnEof();
  BrokenLimit broken_limit() const;
  // UnsupportedVersion: the request is not HTTP/1.x (a server answers 505).
  bool UnsupportedVersion() const;
  // Started: bytes of the current message have arrived. Progress says how much, for errors.
  bool Started() const;
  std::string Progress() const;

  HttpRequest TakeRequest();
  HttpResponse TakeResponse();
  // Reset prepares for the next message on the same connection.
  void Reset();

  struct State;  // Boost.Beast stays out of this header

 private:
  std::unique_ptr<State> state_;
};

}  // namespace concierge::http
