#include <gtest/gtest.h>

#include "http/http_message.h"
#include "http/socket_io.h"

namespace concierge::http {
namespace {

Result<HttpRequest> ParseRequest(std::string_view text, ParserLimits limits = {}) {
  MessageParser parser(MessageParser::Kind::kRequest, limits);
  ASSIGN_OR_RETURN(size_t used, parser.Feed(text.data(), text.size()));
  if (!parser.Complete()) {
    return MakeError(ErrorCode::kBadFormat, "incomplete after " + std::to_string(used));
  }
  return parser.TakeRequest();
}

TEST(MessageParserTest, ParsesARequestFedByteByByte) {
  std::string text =
      "POST /.well-known/brski/requestvoucher HTTP/1.1\r\nHost: x\r\nContent-Type: a/b\r\n"
      "Content-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n";
  MessageParser parser(MessageParser::Kind::kRequest, {});
  size_t offset = 0;
  while (!parser.Complete()) {
    auto used = parser.Feed(text.data() + offset, 1);
    ASSERT_TRUE(used);
    offset += *used;
  }
  HttpRequest request = parser.TakeRequest();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/.well-known/brski/requestvoucher");
  EXPECT_EQ(request.Header("content-type"), "a/b");
  EXPECT_EQ(request.body, "hello");
  EXPECT_EQ(text.substr(offset), "GET / HTTP/1.1\r\n\r\n");  // the next message is left
}

TEST(MessageParserTest, RefusesOversizeBodiesAndHeaders) {
  ParserLimits limits{.max_header_bytes = 64, .max_body_bytes = 4};
  auto big_body =
      ParseRequest("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", limits);
  ASSERT_FALSE(big_body);
  EXPECT_EQ(big_body.error().code(), ErrorCode::kTooLarge);
  auto chunked = ParseRequest(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      limits);
  ASSERT_FALSE(chunked);
  EXPECT_EQ(chunked.error().code(), ErrorCode::kTooLarge);
  auto big_header =
      ParseRequest("GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n", limits);
  ASSERT_FALSE(big_header);
  EXPECT_EQ(big_header.error().code(), ErrorCode::kTooLarge);
}

TEST(MessageParserTest, RefusesMalformedRequests) {
  auto bad = ParseRequest("NOT HTTP AT ALL\r\n\r\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kBadFormat);
}

TEST(MessageParserTest, RefusesWhatRfc9112Forbids) {
  auto no_host = ParseRequest("GET / HTTP/1.1\r\n\r\n");
  ASSERT_FALSE(no_host);
  EXPECT_EQ(no_host.error().code(), ErrorCode::kBadFormat);
  EXPECT_TRUE(ParseRequest("GET / HTTP/1.0\r\n\r\n")) << "HTTP/1.0 needs no Host";
  MessageParser http2(MessageParser::Kind::kRequest, {});
  std::string text = "GET / HTTP/2.0\r\nHost: a\r\n\r\n";
  ASSERT_FALSE(http2.Feed(text.data(), text.size()));
  EXPECT_TRUE(http2.UnsupportedVersion());
  auto folded = ParseRequest("GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n\ttwo\r\n\r\n");
  ASSERT_FALSE(folded);
  EXPECT_EQ(
      folded.error().message(),
      "a header line starts with whitespace: obs-fold or a space before the first header (RFC "
      "9112 §5.2, §2.2)");
}

TEST(MessageParserTest, ReadsAChunkedBodyFedByteByByte) {
  std::string text =
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\nnext";
  MessageParser parser(MessageParser::Kind::kRequest, {});
  size_t offset = 0;
  while (!parser.Complete() && offset < text.size()) {
    auto used = parser.Feed(text.data() + offset, 1);
    ASSERT_TRUE(used) << used.error().message();
    offset += *used;
  }
  ASSERT_TRUE(parser.Complete());
  EXPECT_EQ(parser.TakeRequest().body, "abcde");
  EXPECT_EQ(text.substr(offset), "next");
}

TEST(MessageParserTest, RefusesALengthBesideChunkedAndTellsKeepAlive) {
  // Both framings at once is how requests are smuggled past a proxy (RFC 9112 §6.1).
  auto both = ParseRequest(
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n");
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().code(), ErrorCode::kBadFormat);
  auto http10 = ParseRequest("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(http10);
  EXPECT_FALSE(http10->keep_alive);
  auto closing = ParseRequest("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(closing);
  EXPECT_FALSE(closing->keep_alive);
  auto kept = ParseRequest("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(kept);
  EXPECT_TRUE(kept->keep_alive);
}

TEST(MessageParserTest, SerializedResponseParsesBack) {
  HttpResponse response = MakeResponse(202, "text/plain", "wait");
  response.headers["retry-after"] = "5";
  std::string wire = SerializeResponse(response);
  MessageParser parser(MessageParser::Kind::kResponse, {});
  ASSERT_TRUE(parser.Feed(wire.data(), wire.size()));
  ASSERT_TRUE(parser.Complete());
  HttpResponse parsed = parser.TakeResponse();
  EXPECT_EQ(parsed.status, 202);
  EXPECT_EQ(parsed.Header("retry-after"), "5");
  EXPECT_EQ(parsed.body, "wait");
}

TEST(MessageParserTest, HeaderValuesCannotInjectLines) {
  HttpResponse response = MakeResponse(200, "", "");
  response.headers["x-evil"] = "a\r\nset-cookie: b";
  EXPECT_EQ(SerializeResponse(response).find("set-cookie"), std::string::npos);
}

TEST(AddressTest, ParsesHostPortsAndUrls) {
  EXPECT_EQ(ParseHostPort("127.0.0.1:0").value().port, 0);
  EXPECT_EQ(ParseHostPort("[::1]:8443").value().host, "::1");
  EXPECT_FALSE(ParseHostPort("nohost"));
  EXPECT_FALSE(ParseHostPort("h:99999"));
  auto url = ParseHttpsUrl("https://masa.example:9443/.well-known/brski").value();
  EXPECT_EQ(url.host, "masa.example");
  EXPECT_EQ(url.port, 9443);
  EXPECT_EQ(url.path, "/.well-known/brski");
  EXPECT_EQ(ParseHttpsUrl("https://[::1]/x").value().host, "::1");
  EXPECT_EQ(ParseHttpsUrl("https://h").value().port, 443);
  EXPECT_FALSE(ParseHttpsUrl("http://h"));
}

}  // namespace
}  // namespace concierge::http
