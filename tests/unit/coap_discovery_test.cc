// Plain CoAP discovery and its amplification bounds: Echo values (RFC 9175 Appendix A), the
// decision between answering, challenging and keeping silent, token buckets per source; and a
// real server's discovery endpoint on loopback driven by hand-made datagrams, so every byte in
// and out is counted.
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "coap/amplification.h"
#include "coap/coap_codes.h"
#include "coap/coaps_server.h"
#include "coap/discovery_client.h"
#include "coap/link_format.h"
#include "common/random.h"
#include "common/simulated_clock.h"
#include "common/token_buckets.h"
#include "crypto/certificate_builder.h"

namespace concierge::coap {
namespace {

TEST(EchoChallengesTest, ProvesTheAddressForALifetime) {
  SimulatedClock clock;
  EchoChallenges echo(clock, Bytes(32, 7), std::chrono::seconds(300));
  Bytes value = echo.Issue("[2001:db8::1]:5683");
  ASSERT_EQ(value.size(), EchoChallenges::kValueSize);
  EXPECT_TRUE(echo.Verify(value, "[2001:db8::1]:5683"));
  EXPECT_FALSE(echo.Verify(value, "[2001:db8::2]:5683"));  // another claimed source
  EXPECT_FALSE(echo.Verify(value, "[2001:db8::1]:5684"));
  Bytes tampered = value;
  tampered.back() ^= 1;
  EXPECT_FALSE(echo.Verify(tampered, "[2001:db8::1]:5683"));
  Bytes later_stamp = value;
  later_stamp[3] += 1;  // the time is under the MAC too
  EXPECT_FALSE(echo.Verify(later_stamp, "[2001:db8::1]:5683"));
  EXPECT_FALSE(echo.Verify(Bytes(value.begin(), value.end() - 1), "[2001:db8::1]:5683"));

  clock.Advance(std::chrono::seconds(300));
  EXPECT_TRUE(echo.Verify(value, "[2001:db8::1]:5683"));
  clock.Advance(std::chrono::seconds(1));
  EXPECT_FALSE(echo.Verify(value, "[2001:db8::1]:5683"));  // stale

  SimulatedClock behind(clock.Now() - std::chrono::seconds(10));
  EchoChallenges same_key_behind(behind, Bytes(32, 7), std::chrono::seconds(300));
  EXPECT_FALSE(same_key_behind.Verify(echo.Issue("192.0.2.1:5683"), "192.0.2.1:5683"))
      << "a value from the future is refused";
  EchoChallenges other_key(clock, Bytes(32, 8), std::chrono::seconds(300));
  EXPECT_FALSE(other_key.Verify(echo.Issue("192.0.2.1:5683"), "192.0.2.1:5683"));
}

TEST(DecidePlainAnswerTest, KeepsWithinThreeTimesOrChallenges) {
  PlainExchange small{.request_bytes = 30, .answer_bytes = 90, .challenge_bytes = 20};
  EXPECT_EQ(DecidePlainAnswer(small), PlainVerdict::kAnswer);
  PlainExchange large = small;
  large.answer_bytes = 91;
  EXPECT_EQ(DecidePlainAnswer(large), PlainVerdict::kChallenge);
  large.echo_verified = true;
  EXPECT_EQ(DecidePlainAnswer(large), PlainVerdict::kAnswer);
  PlainExchange tiny_request{.request_bytes = 5, .answer_bytes = 100, .challenge_bytes = 18};
  EXPECT_EQ(DecidePlainAnswer(tiny_request), PlainVerdict::kSilence)
      << "even the challenge would be more than three times the request";
}

TEST(DecidePlainAnswerTest, MulticastAnswersNoLargerThanTheRequest) {
  PlainExchange multicast{
      .request_bytes = 40, .answer_bytes = 40, .challenge_bytes = 20, .multicast = true};
  EXPECT_EQ(DecidePlainAnswer(multicast), PlainVerdict::kAnswer);
  multicast.answer_bytes = 41;
  EXPECT_EQ(DecidePlainAnswer(multicast), PlainVerdict::kSilence);
  multicast.echo_verified = true;  // Echo does not protect a victim from many servers at once
  EXPECT_EQ(DecidePlainAnswer(multicast), PlainVerdict::kSilence);
}

TEST(LinkFormatTest, ReadsTargetsAndAttributesAsRfc6690WritesThem) {
  auto links = ParseLinkFormat(
      "<>;brski-jp=5684;var=\"c509 v2\",<jpy://[2001:db8::1]:5685>;rt=brski.rjp,</x>;obs");
  ASSERT_TRUE(links) << links.error().ToString();
  ASSERT_EQ(links->size(), 3u);
  EXPECT_EQ((*links)[0].target, "");
  EXPECT_EQ((*links)[0].Attribute("brski-jp"), "5684");
  EXPECT_EQ((*links)[0].Attribute("var"), "c509 v2");
  EXPECT_EQ((*links)[1].target, "jpy://[2001:db8::1]:5685");
  EXPECT_EQ((*links)[1].Attribute("rt"), "brski.rjp");
  EXPECT_EQ((*links)[2].Attribute("obs"), "");
  EXPECT_FALSE((*links)[2].Attribute("rt"));
  EXPECT_TRUE(ParseLinkFormat("")->empty());

  auto unterminated = ParseLinkFormat("<>;rt=\"open");
  ASSERT_FALSE(unterminated);
  EXPECT_NE(unterminated.error().message().find("closing '\"' at offset 11"), std::string::npos)
      << unterminated.error().message();
  EXPECT_FALSE(ParseLinkFormat("no-angle"));
  EXPECT_FALSE(ParseLinkFormat("<a>;=x"));
  EXPECT_FALSE(ParseLinkFormat("<a> <b>"));
  EXPECT_FALSE(ParseLinkFormat(std::string(kMaxLinkFormatBytes + 1, ' ')));
  std::string many;
  for (size_t i = 0; i <= kMaxLinks; ++i) {
    many += (many.empty() ? "<>" : ",<>");
  }
  EXPECT_FALSE(ParseLinkFormat(many));
}

TEST(TokenBucketsTest, RefillAndForgetTheSourceUnseenLongest) {
  SimulatedClock clock;
  SourceBuckets buckets({2, std::chrono::seconds(1)}, 3);
  EXPECT_TRUE(buckets.At("a").Take(clock.Now()));
  EXPECT_TRUE(buckets.At("a").Take(clock.Now()));
  EXPECT_FALSE(buckets.At("a").Take(clock.Now()));
  EXPECT_EQ(buckets.At("a").SecondsUntilToken(clock.Now()), 1.0);
  clock.Advance(std::chrono::milliseconds(500));
  EXPECT_FALSE(buckets.At("a").Take(clock.Now()));
  clock.Advance(std::chrono::milliseconds(500));
  EXPECT_TRUE(buckets.At("a").Take(clock.Now()));
  clock.Advance(std::chrono::seconds(100));
  EXPECT_EQ(buckets.At("a").Tokens(clock.Now()), 2.0) << "never more than the burst";

  EXPECT_TRUE(buckets.At("b").Take(clock.Now()));
  EXPECT_TRUE(buckets.At("b").Take(clock.Now()));
  (void)buckets.At("c");
  (void)buckets.At("a");  // a is now the most recently seen; b the least
  (void)buckets.At("d");  // pushes out b
  EXPECT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets.At("b").Tokens(clock.Now()), 2.0) << "b came back as a new, full bucket";
}

crypto::Credential Credential(const std::string& name) {
  CryptoRandom random;
  auto issued =
      crypto::IssueWithNewKey(crypto::NewCertificateSpec({name, "", ""}, SystemClock().Now(),
                                                         std::chrono::hours(1), random),
                              nullptr, nullptr);
  EXPECT_TRUE(issued) << issued.error().ToString();
  return {issued->certificate, issued->key, {}};
}

// A CoAP message as the test sees it on the wire.
struct Datagram {
  int code = 0;  // class * 100 + detail; 0 for an empty message
  std::optional<Bytes> echo;
  std::optional<uint16_t> content_format;
  std::string payload;
  size_t size = 0;
};

// ReadDatagram decodes a response (RFC 7252 §3), enough for this test.
Datagram ReadDatagram(const Bytes& bytes) {
  Datagram message;
  message.size = bytes.size();
  if (bytes.size() < 4) {
    return message;
  }
  message.code = (bytes[1] >> 5) * 100 + (bytes[1] & 0x1f);
  size_t at = 4 + (bytes[0] & 0x0f);
  uint32_t number = 0;
  auto extended = [&](uint32_t nibble) -> uint32_t {
    if (nibble == 13) {
      return 13 + bytes[at++];
    }
    if (nibble == 14) {
      uint32_t value = 269 + ((uint32_t{bytes[at]} << 8) | bytes[at + 1]);
      at += 2;
      return value;
    }
    return nibble;
  };
  while (at < bytes.size() && bytes[at] != 0xff) {
    uint8_t head = bytes[at++];
    number += extended(head >> 4);
    uint32_t length = extended(head & 0x0f);
    Bytes value(bytes.begin() + static_cast<ptrdiff_t>(at),
                bytes.begin() + static_cast<ptrdiff_t>(at + length));
    at += length;
    if (number == 252) {
      message.echo = value;
    } else if (number == 12) {
      uint16_t format = 0;
      for (uint8_t byte : value) {
        format = static_cast<uint16_t>((format << 8) | byte);
      }
      message.content_format = format;
    }
  }
  if (at < bytes.size()) {
    message.payload.assign(bytes.begin() + static_cast<ptrdiff_t>(at) + 1, bytes.end());
  }
  return message;
}

// MakeRequest builds a CON request with a one-byte token; options in ascending order.
Bytes MakeRequest(uint8_t code, uint16_t message_id, const std::vector<std::string>& path,
                  const std::string& query = "", const std::optional<Bytes>& echo = std::nullopt) {
  Bytes out = {0x41, code, static_cast<uint8_t>(message_id >> 8), static_cast<uint8_t>(message_id),
               0x5c};
  uint32_t last = 0;
  auto option = [&](uint32_t number, const Bytes& value) {
    uint32_t delta = number - last;
    last = number;
    auto nibble = [](uint32_t n) { return n < 13 ? n : n < 269 ? 13u : 14u; };
    out.push_back(static_cast<uint8_t>((nibble(delta) << 4) | nibble(value.size())));
    for (uint32_t n : {delta, static_cast<uint32_t>(value.size())}) {
      if (n >= 269) {
        out.push_back(static_cast<uint8_t>((n - 269) >> 8));
        out.push_back(static_cast<uint8_t>(n - 269));
      } else if (n >= 13) {
        out.push_back(static_cast<uint8_t>(n - 13));
      }
    }
    out.insert(out.end(), value.begin(), value.end());
  };
  for (const std::string& segment : path) {
    option(11, ToBytes(segment));
  }
  if (!query.empty()) {
    option(15, ToBytes(query));
  }
  if (echo) {
    option(252, *echo);
  }
  return out;
}

class DiscoveryLoopbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Resource> resources = {
        {"/secret", "POST", [](const Request&, Responder respond) { respond({code::kChanged}); },
         "rt=test.secret", std::nullopt},
    };
    ServerOptions options{.listen = {"127.0.0.1", 0},
                          .identity = Credential("discovery test server")};
    DiscoveryOptions discovery;
    discovery.listen = {"127.0.0.1", 0};
    discovery.links = [](const std::optional<std::string>& host, uint16_t port) {
      std::vector<Resource> links = {
          {"", "", nullptr, "brski-jp=" + std::to_string(port), std::nullopt}};
      links.push_back(
          {"coaps://" + host.value_or("?") + ":" + std::to_string(port) + "/.well-known/brski", "",
           nullptr, "rt=brski;title=\"" + std::string(120, 'x') + "\"", std::nullopt});
      return links;
    };
    discovery.per_source = {4, std::chrono::hours(1)};
    options.discovery = discovery;
    auto server = CoapsServer::Start(std::move(options), std::move(resources));
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    ASSERT_TRUE(server_->discovery_port());
    socket_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(socket_, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(*server_->discovery_port());
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    ASSERT_EQ(connect(socket_, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
  }

  void TearDown() override { close(socket_); }

  // Exchange sends one datagram and returns the answer, or none within the wait.
  std::optional<Datagram> Exchange(const Bytes& request,
                                   std::chrono::milliseconds wait = std::chrono::seconds(5)) {
    EXPECT_EQ(send(socket_, request.data(), request.size(), 0),
              static_cast<ssize_t>(request.size()));
    pollfd ready = {socket_, POLLIN, 0};
    if (poll(&ready, 1, static_cast<int>(wait.count())) != 1) {
      return std::nullopt;
    }
    Bytes buffer(2048);
    ssize_t got = recv(socket_, buffer.data(), buffer.size(), 0);
    if (got < 0) {
      return std::nullopt;
    }
    buffer.resize(static_cast<size_t>(got));
    return ReadDatagram(buffer);
  }

  std::unique_ptr<CoapsServer> server_;
  int socket_ = -1;
};

TEST_F(DiscoveryLoopbackTest, ChallengesLargeAnswersWithEchoThenAnswers) {
  Bytes first = MakeRequest(0x01, 1, {".well-known", "core"});
  auto challenge = Exchange(first);
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->code, code::kUnauthorized);
  ASSERT_TRUE(challenge->echo);
  EXPECT_EQ(challenge->echo->size(), EchoChallenges::kValueSize);
  EXPECT_TRUE(challenge->payload.empty());
  EXPECT_LE(challenge->size, kAmplificationFactor * first.size());

  auto answer = Exchange(MakeRequest(0x01, 2, {".well-known", "core"}, "", challenge->echo));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->code, code::kContent);
  EXPECT_EQ(answer->content_format, content_format::kLinkFormat);
  std::string port = std::to_string(server_->port());
  EXPECT_EQ(answer->payload.substr(0, answer->payload.find(",<")), "<>;brski-jp=" + port);
  EXPECT_NE(answer->payload.find("<coaps://127.0.0.1:" + port + "/.well-known/brski>;rt=brski"),
            std::string::npos)
      << answer->payload;

  Bytes forged = *challenge->echo;
  forged[5] ^= 0x40;
  auto refused = Exchange(MakeRequest(0x01, 3, {".well-known", "core"}, "", forged));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, code::kUnauthorized);
}

TEST_F(DiscoveryLoopbackTest, AnswersSmallQueriesAtOnceAndNothingElseWithoutDtls) {
  Bytes query = MakeRequest(0x01, 1, {".well-known", "core"}, "brski-jp=*");
  auto answer = Exchange(query);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->code, code::kContent);
  EXPECT_EQ(answer->payload, "<>;brski-jp=" + std::to_string(server_->port()));
  EXPECT_LE(answer->size, kAmplificationFactor * query.size());

  auto secret = Exchange(MakeRequest(0x02, 2, {"secret"}));
  ASSERT_TRUE(secret);
  EXPECT_EQ(secret->code, code::kUnauthorized) << "resources need DTLS";
  EXPECT_FALSE(secret->echo);
  auto nowhere = Exchange(MakeRequest(0x01, 3, {"nowhere"}));
  ASSERT_TRUE(nowhere);
  EXPECT_EQ(nowhere->code, code::kNotFound);
}

TEST_F(DiscoveryLoopbackTest, DiscoverAnswersTheEchoChallengeItself) {
  HostPort where{"127.0.0.1", *server_->discovery_port()};
  auto small = Discover(where, "brski-jp=*", std::chrono::seconds(5));
  ASSERT_TRUE(small) << small.error().ToString();
  ASSERT_EQ(small->size(), 1u);
  EXPECT_EQ((*small)[0].responder, "127.0.0.1");
  ASSERT_EQ((*small)[0].links.size(), 1u);
  EXPECT_EQ((*small)[0].links[0].Attribute("brski-jp"), std::to_string(server_->port()));
  // The whole document is over three times the request: it comes after an Echo round trip.
  auto all = Discover(where, "", std::chrono::seconds(5));
  ASSERT_TRUE(all) << all.error().ToString();
  ASSERT_EQ(all->at(0).links.size(), 2u);
  EXPECT_EQ(all->at(0).links[1].Attribute("rt"), "brski");
  EXPECT_TRUE(Discover(where, "rt=nothing", std::chrono::seconds(5))->at(0).links.empty());
}

TEST(CoapUrlTest, TakesZonesAndDefaultsToPort5683) {
  EXPECT_EQ(ParseCoapUrl("coap://192.0.2.1").value().port, 5683);
  auto zoned = ParseCoapUrl("coap://[ff02::fd%25eth0]/ignored");
  ASSERT_TRUE(zoned) << zoned.error().ToString();
  EXPECT_EQ(zoned->host, "ff02::fd%eth0");
  EXPECT_EQ(zoned->port, 5683);
  EXPECT_EQ(ParseCoapUrl("coap://[fe80::1%eth1]:6000").value().host, "fe80::1%eth1");
  EXPECT_FALSE(ParseCoapUrl("coaps://192.0.2.1"));
  EXPECT_FALSE(ParseCoapUrl("coap://fe80::1"));
  EXPECT_FALSE(ParseCoapUrl("coap://192.0.2.1:0"));
}

TEST(DiscoverTest, SaysWhenNobodyAnswers) {
  // A port with nothing on it: ICMP port unreachable, or silence.
  auto nobody = Discover({"127.0.0.1", 9}, "", std::chrono::milliseconds(300));
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code(), ErrorCode::kUnavailable);
}

TEST_F(DiscoveryLoopbackTest, RateLimitsEachSource) {
  for (uint16_t id = 1; id <= 4; ++id) {
    auto answer = Exchange(MakeRequest(0x01, id, {".well-known", "core"}, "brski-jp=*"));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->code, code::kContent);
  }
  auto limited = Exchange(MakeRequest(0x01, 5, {".well-known", "core"}, "brski-jp=*"));
  ASSERT_TRUE(limited) << "a CON still gets its (empty) acknowledgement";
  EXPECT_EQ(limited->code, 0);
  EXPECT_EQ(limited->size, 4u);
}

}  // namespace
}  // namespace concierge::coap
