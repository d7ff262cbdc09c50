// The CoAP/DTLS transport on its own: reading requests (paths, queries, Uri-Path-Abbrev),
// link format filters, multipart-core, coaps:// URLs; and a real server and client over DTLS
// on loopback, with block-wise bodies both ways, answers made later on another thread, and the
// refusals the server makes before any resource runs.
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "coap/coap_codes.h"
#include "coap/coaps_client.h"
#include "coap/coaps_server.h"
#include "coap/multipart_core.h"
#include "coap/request_head.h"
#include "crypto/certificate_builder.h"
#include "pledge/coaps_connector.h"

namespace concierge::coap {
namespace {

using ::testing::HasSubstr;

const std::vector<Resource>& Table() {
  static const std::vector<Resource> resources = {
      {"/.well-known/brski/rv", "POST", nullptr, "rt=brski.rv;ct=836", 402},
      {"/.well-known/est/crts", "GET", nullptr, "rt=ace.est.crts;ct=\"62 281 287\"", 301},
  };
  return resources;
}

// GET with one Uri-Path-Abbrev option of value 301 (0x012d), message id 0x1234, token 0x7a.
const Bytes kAbbreviatedGet = {0x41, 0x01, 0x12, 0x34, 0x7a, 0xd2, 0x00, 0x01, 0x2d};

TEST(RequestHeadTest, ReadsPathQueryAndAbbreviation) {
  // GET /.well-known/core?rt=brski*
  Bytes datagram = {0x41, 0x01, 0x12, 0x34, 0x7a, 0xbb};
  for (char c : std::string(".well-known")) {
    datagram.push_back(static_cast<uint8_t>(c));
  }
  datagram.push_back(0x04);
  for (char c : std::string("core")) {
    datagram.push_back(static_cast<uint8_t>(c));
  }
  datagram.push_back(0x49);
  for (char c : std::string("rt=brski*")) {
    datagram.push_back(static_cast<uint8_t>(c));
  }
  auto head = ParseDatagram(datagram);
  ASSERT_TRUE(head) << head.error().ToString();
  EXPECT_EQ(head->method, "GET");
  EXPECT_EQ(head->path, "/.well-known/core");
  EXPECT_EQ(head->query, "rt=brski*");
  EXPECT_FALSE(head->abbreviation);

  auto abbreviated = ParseDatagram(kAbbreviatedGet);
  ASSERT_TRUE(abbreviated);
  EXPECT_EQ(abbreviated->abbreviation, 301u);
  EXPECT_EQ(ResolvePath(*abbreviated, Table()).value(), "/.well-known/est/crts");
  EXPECT_FALSE(ParseDatagram(Bytes{0x41, 0x01}));
}

TEST(RequestHeadTest, AbbreviationsThatCannotBeProcessedAreRefused) {
  RequestHead head;
  head.abbreviation = 999;
  EXPECT_THAT(ResolvePath(head, Table()).error().message(), HasSubstr("999 is not served"));
  head.abbreviation = 0;
  EXPECT_EQ(ResolvePath(head, Table()).value(), "/.well-known/core");
  head.abbreviation = 402;
  head.has_uri_path = true;
  head.path = "/b/rv";
  EXPECT_THAT(ResolvePath(head, Table()).error().message(), HasSubstr("with a Uri-Path"));
}

TEST(LinkFormatTest, FiltersByAttributeWithPrefixes) {
  EXPECT_EQ(LinkFormat(Table(), ""),
            "</.well-known/brski/rv>;rt=brski.rv;ct=836,"
            "</.well-known/est/crts>;rt=ace.est.crts;ct=\"62 281 287\"");
  EXPECT_EQ(LinkFormat(Table(), "rt=brski*"), "</.well-known/brski/rv>;rt=brski.rv;ct=836");
  EXPECT_EQ(LinkFormat(Table(), "rt=ace.est.crts"),
            "</.well-known/est/crts>;rt=ace.est.crts;ct=\"62 281 287\"");
  EXPECT_EQ(LinkFormat(Table(), "rt=brski.jp"), "");
}

TEST(MultipartCoreTest, RoundTripsAndRefusesOddArrays) {
  Parts parts = {{287, Bytes{1, 2, 3}}, {281, Bytes{}}};
  Bytes encoded = EncodeMultipartCore(parts).value();
  EXPECT_EQ(encoded[0], 0x84);  // four items: the element count the draft says clients check
  EXPECT_EQ(ParseMultipartCore(encoded).value(), parts);
  EXPECT_THAT(ParseMultipartCore(Bytes{0x81, 0x19, 0x01, 0x1f}).error().message(),
              HasSubstr("not content-format and part pairs"));
  EXPECT_FALSE(ParseMultipartCore(Bytes{0x82, 0x3a, 0x00, 0x01, 0x00, 0x00, 0x40}));
}

TEST(CoapsUrlTest, DefaultsToPort5684) {
  EXPECT_EQ(pledge::ParseCoapsUrl("coaps://192.0.2.1").value().port, 5684);
  auto explicit_port = pledge::ParseCoapsUrl("coaps://[2001:db8::1]:6000/ignored");
  ASSERT_TRUE(explicit_port);
  EXPECT_EQ(explicit_port->host, "[2001:db8::1]");
  EXPECT_EQ(explicit_port->port, 6000);
  EXPECT_EQ(pledge::ParseCoapsUrl("coaps://[2001:db8::1]").value().port, 5684);
  EXPECT_FALSE(pledge::ParseCoapsUrl("https://192.0.2.1"));
  EXPECT_FALSE(pledge::ParseCoapsUrl("coaps://192.0.2.1:0"));
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

class CoapsLoopbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Bytes big(3000);
    for (size_t i = 0; i < big.size(); ++i) {
      big[i] = static_cast<uint8_t>(i * 7);
    }
    std::vector<Resource> resources = {
        {"/big", "GET",
         [big](const Request&, Responder respond) {
           respond({code::kContent, content_format::kCbor, big});
         },
         "rt=test.big", 7},
        {"/echo", "POST",
         [](const Request& request, Responder respond) {
           Bytes answer = request.payload;
           answer.insert(answer.end(), request.peer.address.begin(), request.peer.address.end());
           respond({code::kChanged, request.content_format, answer});
         },
         "rt=test.echo", std::nullopt},
        {"/later", "GET",
         [this](const Request& request, Responder respond) {
           // Answered from another thread, after the handler has returned.
           std::string subject = request.peer.certificate->SubjectText();
           workers_.emplace_back([respond, subject] {
             std::this_thread::sleep_for(std::chrono::milliseconds(50));
             respond({code::kContent, std::nullopt, ToBytes("hello " + subject)});
           });
         },
         "", std::nullopt},
    };
    ServerOptions options{.listen = {"127.0.0.1", 0}, .identity = Credential("coaps test server")};
    options.max_body = 4096;
    auto server = CoapsServer::Start(std::move(options), std::move(resources));
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    auto client = CoapsClient::Connect({"127.0.0.1", server_->port()}, Credential("pledge 7"),
                                       std::chrono::seconds(10));
    ASSERT_TRUE(client) << client.error().ToString();
    client_ = std::move(*client);
    big_ = big;
  }

  void TearDown() override {
    for (auto& worker : workers_) {
      worker.join();
    }
  }

  std::vector<std::thread> workers_;
  std::unique_ptr<CoapsServer> server_;
  std::unique_ptr<CoapsClient> client_;
  Bytes big_;
};

TEST_F(CoapsLoopbackTest, ServesBlockwiseBothWaysAndAnswersLater) {
  EXPECT_EQ(client_->ServerCertificate().SubjectCommonName(), "coaps test server");
  auto big = client_->Send({"GET", "/big"});
  ASSERT_TRUE(big) << big.error().ToString();
  EXPECT_EQ(big->code, code::kContent);
  EXPECT_EQ(big->content_format, content_format::kCbor);
  EXPECT_EQ(big->payload, big_);  // 3000 bytes: several Block2 blocks

  Bytes upload(2500, 0x5a);  // several Block1 blocks, under the limit
  auto echo = client_->Send({"POST", "/echo", content_format::kCbor, std::nullopt, upload});
  ASSERT_TRUE(echo) << echo.error().ToString();
  EXPECT_EQ(echo->code, code::kChanged);
  EXPECT_EQ(ToString(echo->payload), ToString(upload) + "127.0.0.1");

  auto later = client_->Send({"GET", "/later"});
  ASSERT_TRUE(later) << later.error().ToString();
  EXPECT_EQ(ToString(later->payload), "hello CN=pledge 7");
}

TEST_F(CoapsLoopbackTest, RefusesBeforeAnyResourceRuns) {
  auto too_big = client_->Send({"POST", "/echo", std::nullopt, std::nullopt, Bytes(5000, 1)});
  ASSERT_TRUE(too_big) << too_big.error().ToString();
  EXPECT_EQ(too_big->code, code::kRequestEntityTooLarge);
  EXPECT_THAT(ToString(too_big->payload), HasSubstr("over the limit of 4096"));
  EXPECT_EQ(client_->Send({"GET", "/nowhere"})->code, code::kNotFound);
  EXPECT_EQ(client_->Send({"POST", "/big"})->code, code::kMethodNotAllowed);
  auto core = client_->Send({"GET", "/.well-known/core"});
  ASSERT_TRUE(core);
  EXPECT_EQ(core->content_format, content_format::kLinkFormat);
  EXPECT_EQ(ToString(core->payload), "</big>;rt=test.big,</echo>;rt=test.echo");
}

}  // namespace
}  // namespace concierge::coap
