// The stateless join proxy's logic: the JPY codec against the draft's Appendix A example
// (../shared/testdata/brski-vectors.md §1.1), the sealed header (forged, truncated, rotated
// keys), the proxy's relaying, limits and counters on a simulated clock (stateless and
// stateful), and the registrar's JPY front keeping to the proxies' network.
#include <poll.h>
#include <sys/socket.h>

#include <filesystem>
#include <vector>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/random.h"
#include "common/simulated_clock.h"
#include "crypto/aead.h"
#include "joinproxy/header_sealer.h"
#include "joinproxy/jpy.h"
#include "joinproxy/proxy_discovery.h"
#include "joinproxy/registrar_front.h"
#include "joinproxy/stateful_proxy.h"
#include "joinproxy/stateless_proxy.h"
#include "joinproxy/udp.h"

namespace concierge::joinproxy {
namespace {

// HexBlockAfter is the hex of the first fenced block after the line that starts with title.
Bytes HexBlockAfter(const std::string& document, const std::string& title) {
  size_t at = document.find("\n" + title);
  EXPECT_NE(at, std::string::npos) << title;
  size_t open = document.find("``````\n", at);
  size_t close = document.find("``````", open + 7);
  std::string digits;
  for (char c : document.substr(open + 7, close - open - 7)) {
    if (std::isxdigit(static_cast<unsigned char>(c)) != 0) {
      digits += c;
    }
  }
  return HexDecode(digits).value();
}

TEST(JpyTest, DraftAppendixAExampleParsesAndReencodesExactly) {
  std::filesystem::path path =
      std::filesystem::path(CONCIERGE_SHARED_TESTDATA) / "brski-vectors.md";
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << "JPY examples not found at " << path;
  }
  std::string document = ReadFile(path).value();
  Bytes to_registrar =
      HexBlockAfter(document, "JP -> Registrar (JPY carrying DTLS 1.2 ClientHello)");
  Bytes to_proxy =
      HexBlockAfter(document, "Registrar -> JP (JPY carrying DTLS 1.2 HelloVerifyRequest)");
  ASSERT_EQ(to_registrar.size(), 448u);
  ASSERT_EQ(to_proxy.size(), 80u);

  auto request = DecodeJpy(to_registrar);
  ASSERT_TRUE(request) << request.error().ToString();
  EXPECT_EQ(request->header.size(), 16u);
  ASSERT_EQ(request->content.size(), 427u);
  EXPECT_EQ(request->content[0], 0x16) << "a DTLS handshake record";
  EXPECT_EQ(EncodeJpy(request->header, request->content), to_registrar);

  auto answer = DecodeJpy(to_proxy);
  ASSERT_TRUE(answer) << answer.error().ToString();
  EXPECT_EQ(answer->header, request->header) << "the registrar echoes the header";
  ASSERT_EQ(answer->content.size(), 60u);
  EXPECT_EQ(answer->content[13], 0x03) << "a HelloVerifyRequest";
  EXPECT_EQ(EncodeJpy(answer->header, answer->content), to_proxy);
}

TEST(JpyTest, TakesLongerArraysAndRefusesWhatIsNotJpy) {
  Bytes three = {0x83, 0x41, 0xaa, 0x42, 0x16, 0xfe, 0x01};
  auto decoded = DecodeJpy(three);
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(decoded->header, Bytes{0xaa});
  EXPECT_EQ(decoded->content, (Bytes{0x16, 0xfe}));

  EXPECT_FALSE(DecodeJpy(Bytes{0x81, 0x41, 0xaa}));                    // one element
  EXPECT_FALSE(DecodeJpy(Bytes{0x82, 0x61, 0x61, 0x41, 0x00}));        // text header
  EXPECT_FALSE(DecodeJpy(Bytes{0x82, 0x41, 0xaa, 0x45, 0x00}));        // truncated content
  EXPECT_FALSE(DecodeJpy(Bytes{0x9f, 0x41, 0xaa, 0x41, 0x00, 0xff}));  // indefinite length
  Bytes long_header = EncodeJpy(Bytes(kMaxJpyHeader + 1, 1), Bytes{0x16});
  auto refused = DecodeJpy(long_header);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("limit of 64"), std::string::npos)
      << refused.error().message();
  EXPECT_FALSE(DecodeJpy(EncodeJpy(Bytes{1}, Bytes(kMaxJpyContent + 1, 0x16))));
  for (size_t size : {0u, 23u, 24u, 255u, 256u, 1500u}) {
    Bytes content(size, 0x17);
    auto round = DecodeJpy(EncodeJpy(Bytes(32, 9), content));
    ASSERT_TRUE(round) << size;
    EXPECT_EQ(round->content, content);
  }
}

TEST(AeadTest, CcmRoundTripsAndRefusesAnyChange) {
  Bytes key(16, 0x42);
  Bytes nonce(8, 0x01);
  Bytes sealed = crypto::CcmSeal(key, nonce, ToBytes("pledge")).value();
  ASSERT_EQ(sealed.size(), 6 + crypto::kCcmTagSize);
  EXPECT_EQ(ToString(crypto::CcmOpen(key, nonce, sealed).value()), "pledge");
  for (size_t i = 0; i < sealed.size(); ++i) {
    Bytes changed = sealed;
    changed[i] ^= 0x01;
    EXPECT_FALSE(crypto::CcmOpen(key, nonce, changed)) << "byte " << i;
  }
  Bytes other_nonce = nonce;
  other_nonce[7] = 2;
  EXPECT_FALSE(crypto::CcmOpen(key, other_nonce, sealed));
  EXPECT_FALSE(crypto::CcmOpen(key, nonce, Bytes(sealed.begin(), sealed.end() - 1)));
  EXPECT_FALSE(crypto::CcmSeal(Bytes(15, 0), nonce, ToBytes("x")));
  EXPECT_FALSE(crypto::CcmSeal(key, Bytes(6, 0), ToBytes("x")));
}

PledgeAddress LinkLocalPledge(uint8_t last, uint16_t port = 5684) {
  PledgeAddress pledge;
  pledge.ip = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, last};
  pledge.port = port;
  pledge.ifindex = 3;
  return pledge;
}

TEST(HeaderSealerTest, CarriesTheAddressInAtMost32Bytes) {
  SimulatedClock clock;
  CryptoRandom random;
  HeaderSealer sealer(clock, random);
  PledgeAddress link_local = LinkLocalPledge(0x55, 40000);
  Bytes header = sealer.Seal(link_local);
  EXPECT_LE(header.size(), 32u);
  EXPECT_EQ(sealer.Open(header), link_local);
  EXPECT_EQ(sealer.Seal(link_local), header) << "the registrar tells pledges apart by it";
  PledgeAddress other_port = link_local;
  other_port.port = 40001;
  EXPECT_NE(sealer.Seal(other_port), header);
  EXPECT_NE(sealer.Seal(LinkLocalPledge(0x56, 40000)), header);

  PledgeAddress v4;
  v4.ipv6 = false;
  v4.ip = {192, 0, 2, 7};
  v4.port = 61616;
  Bytes v4_header = sealer.Seal(v4);
  EXPECT_LE(v4_header.size(), 32u);
  EXPECT_EQ(sealer.Open(v4_header), v4);

  PledgeAddress global;
  global.ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
  global.port = 1;
  EXPECT_EQ(sealer.Open(sealer.Seal(global)), global);
}

TEST(HeaderSealerTest, DropsForgedTruncatedAndRetiredHeaders) {
  SimulatedClock clock;
  CryptoRandom random;
  HeaderSealer sealer(clock, random, {std::chrono::hours(24), std::chrono::seconds(30)});
  Bytes header = sealer.Seal(LinkLocalPledge(1));
  for (size_t i = 0; i < header.size(); ++i) {
    Bytes forged = header;
    forged[i] ^= 0x80;
    EXPECT_FALSE(sealer.Open(forged)) << "byte " << i;
  }
  EXPECT_FALSE(sealer.Open(Bytes(header.begin(), header.end() - 1)));
  EXPECT_FALSE(sealer.Open(Bytes(header.begin(), header.begin() + 8)));
  EXPECT_FALSE(sealer.Open(Bytes{}));
  HeaderSealer other(clock, random);
  EXPECT_FALSE(other.Open(header)) << "another proxy's key";

  sealer.Rotate();
  EXPECT_EQ(sealer.Open(header), LinkLocalPledge(1)) << "within the grace after a rotation";
  clock.Advance(std::chrono::seconds(31));
  EXPECT_FALSE(sealer.Open(header)) << "replayed after the key retired";
  EXPECT_TRUE(sealer.Open(sealer.Seal(LinkLocalPledge(1))));

  clock.Advance(std::chrono::hours(24));
  Bytes before = sealer.Seal(LinkLocalPledge(2));  // rotates first: a day has passed
  EXPECT_TRUE(sealer.Open(before));
  sealer.Rotate();
  sealer.Rotate();  // two rotations: the key of `before` is gone at once
  EXPECT_FALSE(sealer.Open(before));
}

TEST(HeaderSealerTest, ARestartWithTheKeptKeyOpensHeadersFromBefore) {
  SimulatedClock clock;
  CryptoRandom random;
  HeaderSealer before(clock, random);
  Bytes header = before.Seal(LinkLocalPledge(4));
  HeaderSealer after(clock, random);
  EXPECT_FALSE(after.Open(header));
  ASSERT_TRUE(after.ImportKey(before.ExportKey()));
  EXPECT_EQ(after.Open(header), LinkLocalPledge(4));
  EXPECT_EQ(after.Seal(LinkLocalPledge(4)), header) << "the registrar's session goes on";
  EXPECT_FALSE(after.ImportKey(Bytes(10, 0)));
  clock.Advance(std::chrono::hours(25));
  EXPECT_NE(after.Seal(LinkLocalPledge(4)), header) << "its age was kept too: it rotates";
}

TEST(StatelessProxyTest, RelaysBothWaysAndCountsWhatItDrops) {
  SimulatedClock clock;
  CryptoRandom random;
  StatelessProxy proxy(clock, random);
  PledgeAddress pledge = LinkLocalPledge(9);
  Bytes hello = {0x16, 0xfe, 0xfd, 0x00, 0x01};
  auto up = proxy.FromPledge(pledge, hello);
  ASSERT_TRUE(up);
  auto message = DecodeJpy(*up);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->content, hello);
  // A link-local pledge's header: nonce 8, kind, ifindex, port and identifier 13, tag 8.
  EXPECT_EQ(message->header.size(), 29u);
  EXPECT_EQ(up->size(), 1 + (2 + 29) + (1 + hello.size())) << "array, two bstr heads";

  Bytes verify = {0x16, 0xfe, 0xfd, 0x00, 0x03};
  auto down = proxy.FromRegistrar(EncodeJpy(message->header, verify));
  ASSERT_TRUE(down);
  EXPECT_EQ(down->to, pledge);
  EXPECT_EQ(down->datagram, verify);

  Bytes forged = message->header;
  forged.back() ^= 1;
  EXPECT_FALSE(proxy.FromRegistrar(EncodeJpy(forged, verify)));
  EXPECT_FALSE(proxy.FromRegistrar(Bytes{0x16, 0xfe, 0xfd}));
  EXPECT_FALSE(proxy.FromPledge(pledge, Bytes(kMaxJpyContent + 1, 0x16)));
  EXPECT_EQ(proxy.counters().to_registrar, 1u);
  EXPECT_EQ(proxy.counters().to_pledges, 1u);
  EXPECT_EQ(proxy.counters().unauthentic, 1u);
  EXPECT_EQ(proxy.counters().malformed, 1u);
  EXPECT_EQ(proxy.counters().oversize, 1u);
}

TEST(StatelessProxyTest, AFloodingPledgeIsLimitedWithoutStarvingOthers) {
  SimulatedClock clock;
  CryptoRandom random;
  StatelessProxy proxy(clock, random);
  PledgeAddress flooder = LinkLocalPledge(1);
  int relayed = 0;
  for (int i = 0; i < 1000; ++i) {
    relayed += proxy.FromPledge(flooder, Bytes{0x16}) ? 1 : 0;
  }
  EXPECT_EQ(relayed, 200) << "its burst, then nothing until time passes";
  for (uint8_t other = 2; other < 52; ++other) {
    EXPECT_TRUE(proxy.FromPledge(LinkLocalPledge(other), Bytes{0x16})) << int{other};
  }
  clock.Advance(std::chrono::milliseconds(100));
  relayed = 0;
  for (int i = 0; i < 100; ++i) {
    relayed += proxy.FromPledge(flooder, Bytes{0x16}) ? 1 : 0;
  }
  EXPECT_EQ(relayed, 10) << "100 a second";
  EXPECT_EQ(proxy.counters().rate_limited, 800u + 90u);
}

TEST(StatefulProxyTest, GivesEachPledgeAFlowAndEndsItWhenIdle) {
  SimulatedClock clock;
  StatefulProxy proxy(clock);
  auto first = proxy.FromPledge(LinkLocalPledge(1, 40000), 100);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->opened);
  auto again = proxy.FromPledge(LinkLocalPledge(1, 40000), 100);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->opened);
  EXPECT_EQ(again->flow, first->flow);
  auto other = proxy.FromPledge(LinkLocalPledge(2, 40000), 100);
  ASSERT_TRUE(other);
  EXPECT_NE(other->flow, first->flow);
  EXPECT_EQ(proxy.FromRegistrar(first->flow), LinkLocalPledge(1, 40000));

  // An answer keeps a flow alive as a pledge's datagram does; 30 s of silence ends it.
  clock.Advance(std::chrono::seconds(20));
  EXPECT_TRUE(proxy.FromRegistrar(first->flow));
  clock.Advance(std::chrono::seconds(20));
  EXPECT_EQ(proxy.Expire(), std::vector<StatefulProxy::FlowId>{other->flow});
  EXPECT_FALSE(proxy.FromRegistrar(other->flow)) << "an ended flow's answers go nowhere";
  clock.Advance(std::chrono::seconds(11));
  EXPECT_EQ(proxy.Expire(), std::vector<StatefulProxy::FlowId>{first->flow});
  EXPECT_EQ(proxy.flows(), 0u);
  EXPECT_EQ(proxy.counters().flows_opened, 2u);
  EXPECT_EQ(proxy.counters().flows_expired, 2u);
  EXPECT_EQ(proxy.counters().unauthentic, 1u);
}

TEST(StatefulProxyTest, KeepsTheDraftsLimitsPerAddressAndPerInterface) {
  SimulatedClock clock;
  StatefulProxy proxy(clock);
  EXPECT_TRUE(proxy.FromPledge(LinkLocalPledge(1, 1000), 10));
  EXPECT_TRUE(proxy.FromPledge(LinkLocalPledge(1, 1001), 10));
  EXPECT_FALSE(proxy.FromPledge(LinkLocalPledge(1, 1002), 10)) << "two flows per address";
  for (uint8_t pledge = 2; pledge < 10; ++pledge) {
    EXPECT_TRUE(proxy.FromPledge(LinkLocalPledge(pledge), 10)) << int{pledge};
  }
  EXPECT_FALSE(proxy.FromPledge(LinkLocalPledge(10), 10)) << "ten flows per interface";
  PledgeAddress elsewhere = LinkLocalPledge(10);
  elsewhere.ifindex = 4;
  EXPECT_TRUE(proxy.FromPledge(elsewhere, 10)) << "another interface has its own ten";
  EXPECT_FALSE(proxy.FromPledge(LinkLocalPledge(11), kMaxJpyContent + 1));
  EXPECT_EQ(proxy.counters().table_full, 2u);
  EXPECT_EQ(proxy.counters().oversize, 1u);

  // Closing a flow (its socket could not be opened) makes room again.
  auto flows = proxy.flows();
  auto last = proxy.FromPledge(LinkLocalPledge(1, 1001), 10);
  ASSERT_TRUE(last);
  proxy.Close(last->flow);
  EXPECT_EQ(proxy.flows(), flows - 1);
  EXPECT_TRUE(proxy.FromPledge(LinkLocalPledge(10), 10));
}

TEST(RegistrarFrontTest, TakesJpyOnlyFromTheProxiesNetwork) {
  // A UDP socket stands in for the CoAPS listener: what the front relays arrives there.
  auto listener = BindUdp({"127.0.0.1", 0});
  ASSERT_TRUE(listener);
  FrontOptions options{.listen = {"127.0.0.1", 0},
                       .dtls = {"127.0.0.1", BoundPort(listener->get())}};
  options.allowed_proxies = {IpNetwork::Parse("127.0.0.2/32").value()};
  auto front = RegistrarFront::Start(options);
  ASSERT_TRUE(front) << front.error().message();
  SocketAddress jpy = ToSocketAddress({"127.0.0.1", (*front)->port()}).value();
  for (const char* proxy : {"127.0.0.1", "127.0.0.2"}) {
    auto socket = BindUdp({proxy, 0});
    ASSERT_TRUE(socket);
    Bytes message = EncodeJpy(Bytes(17, static_cast<uint8_t>(proxy[8])), Bytes{0x16, 0xfe, 0xfd});
    ASSERT_EQ(sendto(socket->get(), message.data(), message.size(), 0, jpy.get(), jpy.length),
              static_cast<ssize_t>(message.size()));
  }
  pollfd ready{listener->get(), POLLIN, 0};
  ASSERT_EQ(poll(&ready, 1, 5000), 1) << "the allowed proxy's content never arrived";
  Bytes got(64);
  EXPECT_EQ(recv(listener->get(), got.data(), got.size(), 0), 3);
  // Both datagrams were read before the relayed one was sent: the other was dropped, counted.
  FrontCounters counters = (*front)->counters();
  EXPECT_EQ(counters.from_proxies, 1u);
  EXPECT_EQ(counters.not_allowed, 1u);
  EXPECT_EQ(recv(listener->get(), got.data(), got.size(), 0), -1) << "only one relayed";
}

// CoreRequest is GET /.well-known/core (CON, or NON) with message id 0x1234, token 0x7a and
// the query, if any.
Bytes CoreRequest(const std::string& query, bool confirmable = true) {
  Bytes out = {static_cast<uint8_t>(confirmable ? 0x41 : 0x51), 0x01, 0x12, 0x34, 0x7a, 0xbb};
  out.insert(out.end(), {'.', 'w', 'e', 'l', 'l', '-', 'k', 'n', 'o', 'w', 'n', 0x04});
  out.insert(out.end(), {'c', 'o', 'r', 'e'});
  if (!query.empty()) {
    out.push_back(static_cast<uint8_t>(0x40 | query.size()));
    out.insert(out.end(), query.begin(), query.end());
  }
  return out;
}

TEST(ProxyDiscoveryTest, AnswersBrskiJpNoLargerThanTheQuestion) {
  Bytes request = CoreRequest("brski-jp=*");
  auto answer = AnswerDiscovery(request, 5690);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->at(0), 0x61) << "an ACK with the request's one-byte token";
  EXPECT_EQ(answer->at(1), 0x45) << "2.05";
  EXPECT_EQ(answer->at(2), 0x12);
  EXPECT_EQ(answer->at(3), 0x34);
  EXPECT_EQ(answer->at(4), 0x7a);
  EXPECT_EQ(ToString(ByteSpan(*answer).subspan(8)), "<>;brski-jp=5690");
  EXPECT_LE(answer->size(), request.size());

  auto non = AnswerDiscovery(CoreRequest("brski-jp=*", false), 5690);
  ASSERT_TRUE(non);
  EXPECT_EQ(non->at(0), 0x51) << "a NON is answered by a NON";

  EXPECT_FALSE(AnswerDiscovery(CoreRequest(""), 5690)) << "the answer would be larger";
  EXPECT_FALSE(AnswerDiscovery(CoreRequest("rt=brski.rjp"), 5690)) << "matches nothing here";
  Bytes post = request;
  post[1] = 0x02;
  EXPECT_FALSE(AnswerDiscovery(post, 5690));
  EXPECT_FALSE(AnswerDiscovery(Bytes{0x41, 0x01}, 5690));
}

}  // namespace
}  // namespace concierge::joinproxy
