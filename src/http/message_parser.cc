// MessageParser over Boost.Beast's basic_parser. Beast does the HTTP/1.1 grammar (start line,
// fields, Content-Length against Transfer-Encoding, chunked bodies); this file adds what a
// server of this project also enforces (RFC 9112's Host and obs-fold rules, HTTP/1.x only, a
// limit on the target) and the errors that name the limit a message broke.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <optional>
#include <variant>

#include "http/http_message.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

namespace concierge::http {
namespace {

namespace beast_http = boost::beast::http;
using boost::beast::error_code;

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view View(boost::beast::string_view text) {
  return {text.data(), text.size()};
}

}  // namespace

struct MessageParser::State {
  Kind kind;
  ParserLimits limits;
  // Bytes handed to Feed that Beast has not consumed yet: it parses a header only once the
  // whole of it is in one buffer. Bounded by the header limit.
  std::string pending;
  size_t bytes_seen = 0;
  std::optional<uint64_t> declared_length;  // Content-Length, once the headers are read
  std::string method;
  std::string target;
  int status = 0;
  int version = 11;
  Headers headers;
  std::string body;
  bool complete = false;
  BrokenLimit broken = BrokenLimit::kNone;
  std::string malformed;  // what RFC 9112 forbids in a message that Beast accepts
  bool unsupported_version = false;
  bool keep_alive = true;

  std::string Noun() const { return kind == Kind::kRequest ? "request" : "response"; }

  // Beast accepts a header line folded onto the next (obs-fold) and joins it; RFC 9112 §5.2
  // and §2.2 say a server rejects it, and whitespace before the first header, with 400. Both
  // are a line of the header section that starts with a space or tab, so the header section's
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

  // Collector receives Beast's callbacks for one message. Beast parsers are not reusable, so
  // each message gets a new one; any error set here stops the parse, and the fields above say
  // which.
  template <bool kIsRequest>
  class Collector final : public beast_http::basic_parser<kIsRequest> {
   public:
    explicit Collector(State& owner) : state_(owner) {
      this->header_limit(
          static_cast<std::uint32_t>(std::min<size_t>(owner.limits.max_header_bytes, UINT32_MAX)));
      this->body_limit(owner.limits.max_body_bytes);
      this->eager(true);
    }

   private:
    void on_request_impl(beast_http::verb, boost::beast::string_view method_text,
                         boost::beast::string_view target_text, int http_version,
                         error_code& ec) override {
      // Beast has already refused any version but 1.0 and 1.1 (see NoteVersion).
      if (target_text.size() > state_.limits.max_target_bytes) {
        state_.broken = BrokenLimit::kTarget;
        ec = beast_http::error::header_limit;
        return;
      }
      state_.method = View(method_text);
      state_.target = View(target_text);
      state_.version = http_version;
    }

    void on_response_impl(int code, boost::beast::string_view, int http_version,
                          error_code&) override {
      state_.status = code;
      state_.version = http_version;
    }

    void on_field_impl(beast_http::field field, boost::beast::string_view name,
                       boost::beast::string_view value, error_code&) override {
      state_.headers[Lower(View(name))] = View(value);
      // Beast checks the length against the body limit before it reports it, so the length
      // the error names is taken here.
      uint64_t length = 0;
      if (field == beast_http::field::content_length &&
          std::from_chars(value.data(), value.data() + value.size(), length).ec == std::errc{}) {
        state_.declared_length = length;
      }
    }

    void on_header_impl(error_code& ec) override {
      if (kIsRequest && state_.version >= 11 && !state_.headers.contains("host")) {
        state_.malformed = "an HTTP/1.1 request must carry a Host header (RFC 9112 §3.2)";
        ec = beast_http::error::bad_field;
      }
    }

    void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code& ec) override {
      if (length) {
        state_.declared_length = *length;
        if (*length > state_.limits.max_body_bytes) {
          state_.broken = BrokenLimit::kBody;
          ec = beast_http::error::body_limit;
        }
      }
    }

    size_t on_body_impl(boost::beast::string_view data, error_code& ec) override {
      return Append(data, ec);
    }

    void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code&) override {}

    size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view data,
                              error_code& ec) override {
      return Append(data, ec);
    }

    void on_finish_impl(error_code&) override {}

    size_t Append(boost::beast::string_view data, error_code& ec) {
      if (state_.body.size() + data.size() > state_.limits.max_body_bytes) {
        state_.broken = BrokenLimit::kBody;
        ec = beast_http::error::body_limit;
        return 0;
      }
      state_.body.append(data.data(), data.size());
      return data.size();
    }

    State& state_;
  };

  std::variant<std::unique_ptr<Collector<true>>, std::unique_ptr<Collector<false>>> parser;

  void NewParser() {
    if (kind == Kind::kRequest) {
      parser = std::make_unique<Collector<true>>(*this);
    } else {
      parser = std::make_unique<Collector<false>>(*this);
    }
  }

  // Put hands Beast the pending bytes until it has all it can use; returns its error, if any.
  error_code Put() {
    return std::visit(
        [this](auto& beast) {
          error_code ec;
          while (!pending.empty() && !beast->is_done()) {
            size_t used = beast->put(boost::asio::buffer(pending), ec);
            pending.erase(0, used);
            if (ec == beast_http::error::need_more) {
              return error_code{};
            }
            if (ec || used == 0) {
              return ec;
            }
          }
          return ec;
        },
        parser);
  }

  error_code PutEof() {
    return std::visit(
        [](auto& beast) {
          error_code ec;
          beast->put_eof(ec);
          return ec;
        },
        parser);
  }

  // Finished notes a message Beast has read to its end.
  void Finished() {
    std::visit(
        [this](auto& beast) {
          if (beast->is_done()) {
            complete = true;
            keep_alive = beast->keep_alive();
          }
        },
        parser);
  }

  // NoteVersion looks at a request line Beast refused for its version: one of another major
  // version (HTTP/2.0 sent in clear) is answered 505, anything else 400. Beast takes HTTP/1.0
  // and HTTP/1.1 only and says no more than "bad version".
  void NoteVersion() {
    if (kind != Kind::kRequest) {
      return;
    }
    std::string_view line(pending);
    line = line.substr(0, line.find_first_of("\r\n"));
    std::string_view named = line.substr(line.find_last_of(' ') + 1);
    if (named.size() == 8 && named.starts_with("HTTP/") &&
        std::isdigit(static_cast<unsigned char>(named[5])) && named[6] == '.' &&
        std::isdigit(static_cast<unsigned char>(named[7])) && named[5] != '1') {
      unsupported_version = true;
      malformed = std::string(named) + " is not supported: this server speaks HTTP/1.1";
    }
  }

  Error ErrorFor(const error_code& ec) const {
    switch (broken) {
      case BrokenLimit::kNone:
        break;
      case BrokenLimit::kTarget:
        return Error(ErrorCode::kTooLarge, "the request target is longer than " +
                                               std::to_string(limits.max_target_bytes) +
                                               " bytes, the limit");
      case BrokenLimit::kHeaders:
        return Error(ErrorCode::kTooLarge, "the " + Noun() + "'s headers exceed " +
                                               std::to_string(limits.max_header_bytes) +
                                               " bytes, the limit");
      case BrokenLimit::kBody:
        return Error(
            ErrorCode::kTooLarge,
            "the " + Noun() + "'s body " +
                (declared_length ? "is " + std::to_string(*declared_length) + " bytes"
                                 : "exceeds " + std::to_string(limits.max_body_bytes) + " bytes") +
                ", more than the limit of " + std::to_string(limits.max_body_bytes));
    }
    if (!malformed.empty()) {
      return Error(ErrorCode::kBadFormat, malformed);
    }
    return Error(ErrorCode::kBadFormat, "malformed HTTP message: " + ec.message());
  }
};

MessageParser::MessageParser(Kind kind, ParserLimits limits) : state_(std::make_unique<State>()) {
  state_->kind = kind;
  state_->limits = limits;
  Reset();
}

MessageParser::~MessageParser() = default;

void MessageParser::Reset() {
  State& s = *state_;
  s.pending.clear();
  s.bytes_seen = 0;
  s.declared_length.reset();
  s.method.clear();
  s.target.clear();
  s.status = 0;
  s.version = 11;
  s.headers.clear();
  s.body.clear();
  s.complete = false;
  s.broken = BrokenLimit::kNone;
  s.malformed.clear();
  s.unsupported_version = false;
  s.keep_alive = true;
  s.header_lines = {};
  s.NewParser();
}

Result<size_t> MessageParser::Feed(const char* data, size_t size) {
  State& s = *state_;
  if (s.complete || size == 0) {
    return size_t{0};
  }
  if (s.kind == Kind::kRequest && s.FindsFoldedLine(data, size)) {
    return MakeError(ErrorCode::kBadFormat,
                     "a header line starts with whitespace: obs-fold or a space before the first "
                     "header (RFC 9112 §5.2, §2.2)");
  }
  s.pending.append(data, size);
  if (error_code ec = s.Put()) {
    if (ec == beast_http::error::bad_version) {
      s.NoteVersion();
    }
    if (ec == beast_http::error::header_limit && s.broken == BrokenLimit::kNone) {
      s.broken = BrokenLimit::kHeaders;
    } else if (ec == beast_http::error::body_limit) {
      s.broken = BrokenLimit::kBody;
    }
    return std::unexpected(s.ErrorFor(ec));
  }
  s.Finished();
  size_t used = size;
  if (s.complete) {
    // What is left belongs to the next message, and all of it arrived in this call: Beast
    // stops at a message's end, so earlier calls left nothing past it.
    used = size - s.pending.size();
    s.pending.clear();
  } else if (s.pending.size() > s.limits.max_header_bytes) {
    // A header is bounded by Beast's own limit; this bounds the rest (a chunk-size line).
    s.broken = BrokenLimit::kHeaders;
    return std::unexpected(s.ErrorFor({}));
  }
  s.bytes_seen += used;
  return used;
}

bool MessageParser::UnsupportedVersion() const {
  return state_->unsupported_version;
}

bool MessageParser::Complete() const {
  return state_->complete;
}

Status MessageParser::FinishOnEof() {
  State& s = *state_;
  if (s.complete) {
    return OkStatus();
  }
  std::string progress = Progress();
  if (s.bytes_seen > 0 && s.pending.empty() && !s.PutEof()) {
    s.Finished();
  }
  if (!s.complete) {
    return MakeError(ErrorCode::kUnavailable,
                     "the connection closed before the " + s.Noun() + " ended (" + progress + ")");
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
  State& s = *state_;
  HttpRequest request;
  request.method = std::move(s.method);
  request.target = std::move(s.target);
  request.headers = std::move(s.headers);
  request.body = std::move(s.body);
  request.keep_alive = s.keep_alive;
  return request;
}

HttpResponse MessageParser::TakeResponse() {
  State& s = *state_;
  HttpResponse response;
  response.status = s.status;
  response.headers = std::move(s.headers);
  response.body = std::move(s.body);
  response.keep_alive = s.keep_alive;
  return response;
}

}  // namespace concierge::http
