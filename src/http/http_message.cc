#include "http/http_message.h"

#include <http_parser.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace concierge::http {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 409:
      return "Conflict";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 415:
      return "Unsupported Media Type";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

bool SafeHeaderValue(std::string_view value) {
  return value.find_first_of("\r\n") == std::string_view::npos;
}

void AppendHeaders(std::string& out, const Headers& headers, size_t body_size) {
  for (const auto& [name, value] : headers) {
    if (name == "content-length" || !SafeHeaderValue(value)) {
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "content-length: " + std::to_string(body_size) + "\r\n\r\n";
}

}  // namespace

std::string HttpRequest::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

HttpResponse MakeResponse(int status, std::string_view content_type, std::string body) {
  HttpResponse response;
  response.status = status;
  if (!content_type.empty()) {
    response.headers["content-type"] = std::string(content_type);
  }
  response.body = std::move(body);
  return response;
}

HttpResponse MakeErrorResponse(const Error& error) {
  // BRSKI asks for a plain UTF-8 human-readable message in error bodies.
  return MakeResponse(HttpStatusFor(error), "text/plain; charset=utf-8", error.message() + "\n");
}

Error ErrorFromPeerStatus(std::string_view peer, const http::HttpResponse& response) {
  ErrorCode code = ErrorCodeForHttpStatus(response.status);
  std::string body = response.body.substr(0, 512);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) {
    body.pop_back();
  }
  return Error(code, std::string(peer) + " answered " + std::to_string(response.status) +
                         (body.empty() ? "" : ": " + body));
}

std::string SerializeRequest(const HttpRequest& request, std::string_view host) {
  std::string out = request.method + " " + request.target + " HTTP/1.1\r\nhost: ";
  out += host;
  out += "\r\n";
  if (!request.keep_alive) {
    out += "connection: close\r\n";
  }
  AppendHeaders(out, request.headers, request.body.size());
  out += request.body;
  return out;
}

std::string SerializeResponse(const HttpResponse& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " ";
  out += ReasonPhrase(response.status);
  out += "\r\n";
  if (!response.keep_alive) {
    out += "connection: close\r\n";
  }
  AppendHeaders(out, response.headers, response.body.size());
  out += response.body;
  return out;
}

struct MessageParser::State {
  http_parser parser{};
  http_parser_settings settings{};
  Kind kind;
  ParserLimits limits;
  size_t header_bytes = 0;
  size_t bytes_seen = 0;
  std::optional<uint64_t> declared_length;  // Content-Length, once the headers are read
  std::string url;
  std::string field;
  std::string value;
  bool in_value = false;
  Headers headers;
  std::string body;
  bool complete = false;
  BrokenLimit broken = BrokenLimit::kNone;
  std::string malformed;  // what RFC 9112 forbids in a message that http_parser accepted
  bool unsupported_version = false;
  bool keep_alive = true;

  void FlushHeader() {
    if (in_value) {
      headers[Lower(field)] = value;
      field.clear();
      value.clear();
      in_value = false;
    }
  }

  bool CountHeader(size_t size) {
    header_bytes += size;
    if (header_bytes > limits.max_header_bytes) {
      broken = BrokenLimit::kHeaders;
      return false;
    }
    return true;
  }

  std::string Noun() const { return kind == Kind::kRequest ? "request" : "response"; }

  // http_parser accepts a header line folded onto the next (obs-fold) and whitespace before
  // the first header; RFC 9112 §5.2 and §2.2 say a server rejects both with 400. Both are a
  // line of the header section that starts with a space or tab, so the header section's
  // bytes are watched for one, across calls to Feed, until the empty line that ends it.
  struct HeaderLines {
    bool started = false;     // a byte of the start line has been seen (leading CRLFs skipped)
    bool line_start = false;  // the previous byte ended a line
    bool done = false;        // the empty line has been seen
  } header_lines;

  bool FindsFoldedLine(const char* data, size_t size) {
    for (size_t i = 0; i < size && !header_lines.done; ++i) {
      char c = data[i];
      if (!header_lines.started) {
        header_lines.started = c != '\r' && c != '\n';
        continue;
      }
      if (header_lines.line_start && (c == ' ' || c == '\t')) {
        return true;
      }
      if (header_lines.line_start && (c == '\r' || c == '\n')) {
        header_lines.done = true;
      }
      if (c != '\r') {
        header_lines.line_start = c == '\n';
      }
    }
    return false;
  }
};

namespace {

MessageParser::State* StateOf(http_parser* parser) {
  return static_cast<MessageParser::State*>(parser->data);
}

}  // namespace

MessageParser::MessageParser(Kind kind, ParserLimits limits) : state_(std::make_unique<State>()) {
  state_->kind = kind;
  state_->limits = limits;
  auto& s = state_->settings;
  http_parser_settings_init(&s);
  s.on_url = [](http_parser* p, const char* at, size_t size) {
    auto* state = StateOf(p);
    state->url.append(at, size);
    if (state->url.size() > state->limits.max_target_bytes) {
      state->broken = BrokenLimit::kTarget;
      return 1;
    }
    return state->CountHeader(size) ? 0 : 1;
  };
  s.on_header_field = [](http_parser* p, const char* at, size_t size) {
    auto* state = StateOf(p);
    state->FlushHeader();
    state->field.append(at, size);
    return state->CountHeader(size) ? 0 : 1;
  };
  s.on_header_value = [](http_parser* p, const char* at, size_t size) {
    auto* state = StateOf(p);
    state->in_value = true;
    state->value.append(at, size);
    return state->CountHeader(size) ? 0 : 1;
  };
  s.on_headers_complete = [](http_parser* p) {
    auto* state = StateOf(p);
    state->FlushHeader();
    if (state->kind == Kind::kRequest) {
      if (p->http_major != 1) {
        state->unsupported_version = true;
        state->malformed = "HTTP/" + std::to_string(p->http_major) + "." +
                           std::to_string(p->http_minor) +
                           " is not supported: this server speaks HTTP/1.1";
        return -1;
      }
      if (p->http_minor >= 1 && !state->headers.contains("host")) {
        state->malformed = "an HTTP/1.1 request must carry a Host header (RFC 9112 §3.2)";
        return -1;
      }
    }
    if (p->content_length != ULLONG_MAX) {
      state->declared_length = p->content_length;
    }
    if (p->content_length != ULLONG_MAX && p->content_length > state->limits.max_body_bytes) {
      state->broken = BrokenLimit::kBody;
      return -1;
    }
    return 0;
  };
  s.on_body = [](http_parser* p, const char* at, size_t size) {
    auto* state = StateOf(p);
    if (state->body.size() + size > state->limits.max_body_bytes) {
      state->broken = BrokenLimit::kBody;
      return 1;
    }
    state->body.append(at, size);
    return 0;
  };
  s.on_message_complete = [](http_parser* p) {
    auto* state = StateOf(p);
    state->complete = true;
    state->keep_alive = http_should_keep_alive(p) != 0;
    http_parser_pause(p, 1);
    return 0;
  };
  Reset();
}

MessageParser::~MessageParser() = default;

void MessageParser::Reset() {
  auto& s = *state_;
  http_parser_init(&s.parser, s.kind == Kind::kRequest ? HTTP_REQUEST : HTTP_RESPONSE);
  s.parser.data = state_.get();
  s.header_bytes = 0;
  s.url.clear();
  s.field.clear();
  s.value.clear();
  s.in_value = false;
  s.headers.clear();
  s.body.clear();
  s.complete = false;
  s.broken = BrokenLimit::kNone;
  s.malformed.clear();
  s.unsupported_version = false;
  s.header_lines = {};
  s.bytes_seen = 0;
  s.declared_length.reset();
}

Result<size_t> MessageParser::Feed(const char* data, size_t size) {
  auto& s = *state_;
  if (s.complete) {
    return size_t{0};
  }
  if (s.kind == Kind::kRequest && s.FindsFoldedLine(data, size)) {
    return MakeError(ErrorCode::kBadFormat,
                     "a header line starts with whitespace: obs-fold or a space before the first "
                     "header (RFC 9112 §5.2, §2.2)");
  }
  // The content length is read before http_parser_execute resets it on a completed message.
  size_t used = http_parser_execute(&s.parser, &s.settings, data, size);
  s.bytes_seen += used;
  auto err = HTTP_PARSER_ERRNO(&s.parser);
  if (err == HPE_PAUSED) {
    http_parser_pause(&s.parser, 0);
    return used;
  }
  switch (s.broken) {
    case BrokenLimit::kNone:
      break;
    case BrokenLimit::kTarget:
      return MakeError(ErrorCode::kTooLarge, "the request target is longer than " +
                                                 std::to_string(s.limits.max_target_bytes) +
                                                 " bytes, the limit");
    case BrokenLimit::kHeaders:
      return MakeError(ErrorCode::kTooLarge, "the " + s.Noun() + "'s headers exceed " +
                                                 std::to_string(s.limits.max_header_bytes) +
                                                 " bytes, the limit");
    case BrokenLimit::kBody: {
      return MakeError(ErrorCode::kTooLarge,
                       "the " + s.Noun() + "'s body " +
                           (s.declared_length
                                ? "is " + std::to_string(*s.declared_length) + " bytes"
                                : "exceeds " + std::to_string(s.limits.max_body_bytes) + " bytes") +
                           ", more than the limit of " + std::to_string(s.limits.max_body_bytes));
    }
  }
  if (!s.malformed.empty()) {
    return MakeError(ErrorCode::kBadFormat, s.malformed);
  }
  if (err != HPE_OK) {
    return MakeError(ErrorCode::kBadFormat,
                     std::string("malformed HTTP message: ") + http_errno_description(err));
  }
  return used;
}

bool MessageParser::UnsupportedVersion() const {
  return state_->unsupported_version;
}

bool MessageParser::Complete() const {
  return state_->complete;
}

Status MessageParser::FinishOnEof() {
  if (state_->complete) {
    return OkStatus();
  }
  std::string progress = Progress();
  auto used = Feed(nullptr, 0);
  if (!used || !state_->complete) {
    return MakeError(ErrorCode::kUnavailable, "the connection closed before the " + state_->Noun() +
                                                  " ended (" + progress + ")");
  }
  return OkStatus();
}

BrokenLimit MessageParser::broken_limit() const {
  return state_->broken;
}

bool MessageParser::Started() const {
  return state_->bytes_seen > 0;
}

std::string MessageParser::Progress() const {
  const State& s = *state_;
  std::string text = std::to_string(s.bytes_seen) + " bytes received";
  if (s.declared_length) {
    text += ", " + std::to_string(s.body.size()) + " of a " + std::to_string(*s.declared_length) +
            "-byte body";
  } else if (!s.body.empty()) {
    text += ", " + std::to_string(s.body.size()) + " of the body";
  }
  return text;
}

HttpRequest MessageParser::TakeRequest() {
  auto& s = *state_;
  HttpRequest request;
  request.method = http_method_str(static_cast<http_method>(s.parser.method));
  request.target = std::move(s.url);
  request.headers = std::move(s.headers);
  request.body = std::move(s.body);
  request.keep_alive = s.keep_alive;
  return request;
}

HttpResponse MessageParser::TakeResponse() {
  auto& s = *state_;
  HttpResponse response;
  response.status = static_cast<int>(s.parser.status_code);
  response.headers = std::move(s.headers);
  response.body = std::move(s.body);
  response.keep_alive = s.keep_alive;
  return response;
}

}  // namespace concierge::http
