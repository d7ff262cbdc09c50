// The registrar's MASA client over real TLS sockets on loopback.
#include "registrar/https_masa_client.h"

#include <atomic>

#include <gtest/gtest.h>

#include "fakes/test_pki.h"
#include "http/https_server.h"

namespace concierge::registrar {
namespace {

class HttpsMasaClientTest : public ::testing::Test {
 protected:
  HttpsMasaClientTest()
      : ca_(testing::MakeTestCa(SystemClock().Now())),
        masa_identity_(testing::MakeTlsIdentity(ca_)),
        registrar_identity_(testing::MakeTlsIdentity(ca_)) {}

  void StartMasa(uint16_t port) {
    auto ctx = http::MakeServerContext(masa_identity_, true).value();
    masa_ = http::HttpsServer::Start(
                {"127.0.0.1", port}, std::move(ctx),
                [this](const http::HttpRequest& request, const http::ConnectionInfo&) {
                  ++requests_;
                  if (request.target != "/.well-known/brski/requestvoucher") {
                    return http::MakeResponse(404, "text/plain", "no\n");
                  }
                  if (request.body == "refuse") {
                    return http::MakeResponse(403, "text/plain", "device is owned elsewhere\n");
                  }
                  return http::MakeResponse(200, "application/voucher-cms+json",
                                            "voucher for " + request.body);
                },
                {})
                .value();
  }

  std::string BaseUrl() const {
    return "https://127.0.0.1:" + std::to_string(masa_->port()) + "/.well-known/brski";
  }

  crypto::KeyAndCertificate ca_;
  http::TlsIdentity masa_identity_;
  http::TlsIdentity registrar_identity_;
  std::unique_ptr<http::HttpsServer> masa_;
  std::atomic<int> requests_{0};
};

TEST_F(HttpsMasaClientTest, SurvivesTheMasaClosingPooledConnections) {
  StartMasa(0);
  HttpsMasaClient client(registrar_identity_, [this] { return std::vector{ca_.certificate}; });
  std::string url = BaseUrl();
  auto first = client.RequestVoucher(url, ToBytes("one"));
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(ToString(*first), "voucher for one");

  // A restart closes the connection the client keeps in its pool.
  uint16_t port = masa_->port();
  masa_->Stop();
  StartMasa(port);
  auto second = client.RequestVoucher(url, ToBytes("two"));
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(ToString(*second), "voucher for two");
}

TEST_F(HttpsMasaClientTest, PassesOnTheMasaRefusal) {
  StartMasa(0);
  HttpsMasaClient client(registrar_identity_, [this] { return std::vector{ca_.certificate}; });
  auto refused = client.RequestVoucher(BaseUrl(), ToBytes("refuse"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(refused.error().message(), "MASA answered 403: device is owned elsewhere");
}

TEST_F(HttpsMasaClientTest, RefusesAMasaOutsideItsAnchors) {
  StartMasa(0);
  auto other_ca = testing::MakeTestCa(SystemClock().Now(), "Other CA");
  HttpsMasaClient client(registrar_identity_,
                         [&other_ca] { return std::vector{other_ca.certificate}; });
  auto result = client.RequestVoucher(BaseUrl(), ToBytes("x"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kSecurity);
  EXPECT_EQ(requests_.load(), 0);
}

}  // namespace
}  // namespace concierge::registrar
