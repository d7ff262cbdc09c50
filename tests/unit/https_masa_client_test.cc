// The registrar's MASA client over real TLS sockets on loopback.
#include "registrar/https_masa_client.h"

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include <gmock/gmock.h>
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

  void StartMasa(http::ServerOptions options = {}) {
    auto ctx = http::MakeServerContext(masa_identity_, true).value();
    masa_ = http::HttpsServer::Start(
                {"127.0.0.1", 0}, std::move(ctx),
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
                options)
                .value();
  }

  // StartHoldingMasa answers no voucher request until `together` of them wait at once.
  void StartHoldingMasa(size_t together) {
    auto ctx = http::MakeServerContext(masa_identity_, true).value();
    masa_ = http::HttpsServer::StartAsync(
                {"127.0.0.1", 0}, std::move(ctx),
                [this, together](const http::HttpRequest& request, const http::ConnectionInfo&,
                                 http::Respond respond) {
                  std::lock_guard lock(held_mutex_);
                  held_.emplace_back(request.body, std::move(respond));
                  if (held_.size() == together) {
                    for (auto& [body, answer] : held_) {
                      answer(http::MakeResponse(200, "application/voucher-cms+json",
                                                "voucher for " + body));
                    }
                    held_.clear();
                  }
                },
                {})
                .value();
  }

  // StartClosingMasa closes a connection that sat idle for 300 ms; WaitForItToClose waits until
  // it closed every one, so the client's pooled connection is dead (no port is given up and
  // taken again, which would race with anything else on the machine binding one).
  void StartClosingMasa() {
    http::ServerOptions options;
    options.idle_timeout = std::chrono::milliseconds(300);
    StartMasa(options);
  }

  void WaitForItToClose() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (masa_->counters().open > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(masa_->counters().open, 0) << "the MASA kept its connections open";
  }

  std::string BaseUrl() const {
    return "https://127.0.0.1:" + std::to_string(masa_->port()) + "/.well-known/brski";
  }

  crypto::KeyAndCertificate ca_;
  http::TlsIdentity masa_identity_;
  http::TlsIdentity registrar_identity_;
  std::atomic<int> requests_{0};
  std::mutex held_mutex_;
  std::vector<std::pair<std::string, http::Respond>> held_;
  // Last, so it stops first: a handler may still be clearing held_ after its answers reached
  // the test, and the test may already be over.
  std::unique_ptr<http::HttpsServer> masa_;
};

// RequestVoucherAsync, waited for.
Result<Bytes> AwaitVoucher(HttpsMasaClient& client, const std::string& url, std::string body) {
  std::promise<Result<Bytes>> answered;
  auto answer = answered.get_future();
  client.RequestVoucherAsync(
      url, voucher::Format::kCms, ToBytes(body),
      [&answered](Result<Bytes> voucher) { answered.set_value(std::move(voucher)); });
  return answer.get();
}

TEST_F(HttpsMasaClientTest, SurvivesTheMasaClosingPooledConnections) {
  StartClosingMasa();
  HttpsMasaClient client(registrar_identity_, [this] { return std::vector{ca_.certificate}; });
  std::string url = BaseUrl();
  auto first = client.RequestVoucher(url, voucher::Format::kCms, ToBytes("one"));
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(ToString(*first), "voucher for one");

  // The MASA closes the connection the client keeps in its pool.
  WaitForItToClose();
  auto second = client.RequestVoucher(url, voucher::Format::kCms, ToBytes("two"));
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(ToString(*second), "voucher for two");
}

TEST_F(HttpsMasaClientTest, PassesOnTheMasaRefusal) {
  StartMasa();
  HttpsMasaClient client(registrar_identity_, [this] { return std::vector{ca_.certificate}; });
  auto refused = client.RequestVoucher(BaseUrl(), voucher::Format::kCms, ToBytes("refuse"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(refused.error().message(), "MASA answered 403: device is owned elsewhere");
}

TEST_F(HttpsMasaClientTest, RefusesAMasaOutsideItsAnchors) {
  StartMasa();
  auto other_ca = testing::MakeTestCa(SystemClock().Now(), "Other CA");
  HttpsMasaClient client(registrar_identity_,
                         [&other_ca] { return std::vector{other_ca.certificate}; });
  auto result = client.RequestVoucher(BaseUrl(), voucher::Format::kCms, ToBytes("x"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kSecurity);
  EXPECT_EQ(requests_.load(), 0);
}

TEST_F(HttpsMasaClientTest, AsyncCallsSurviveTheMasaClosingConnectionsAndPassOnRefusals) {
  StartClosingMasa();
  HttpsMasaClient client(registrar_identity_, [this] { return std::vector{ca_.certificate}; });
  auto first = AwaitVoucher(client, BaseUrl(), "one");
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(ToString(*first), "voucher for one");
  WaitForItToClose();
  auto second = AwaitVoucher(client, BaseUrl(), "two");
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ(ToString(*second), "voucher for two");
  auto refused = AwaitVoucher(client, BaseUrl(), "refuse");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(refused.error().message(), "MASA answered 403: device is owned elsewhere");
}

TEST_F(HttpsMasaClientTest, AsyncCallsRefuseAMasaOutsideTheirAnchors) {
  StartMasa();
  auto other_ca = testing::MakeTestCa(SystemClock().Now(), "Other CA");
  HttpsMasaClient client(registrar_identity_,
                         [&other_ca] { return std::vector{other_ca.certificate}; });
  auto result = AwaitVoucher(client, BaseUrl(), "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kSecurity);
  EXPECT_THAT(result.error().message(), ::testing::HasSubstr("TLS server certificate not trusted"));
  EXPECT_EQ(requests_.load(), 0);
}

// Calls wait for their MASA side by side, each on a connection of its own: this MASA answers
// none until six wait at once. A client that made them wait in turn would see its first call
// time out instead.
TEST_F(HttpsMasaClientTest, AsyncCallsWaitForTheMasaTogether) {
  constexpr int kTogether = 6;
  StartHoldingMasa(kTogether);
  // Before the client, so the client's thread is gone before the promises it fulfils.
  std::vector<std::promise<Result<Bytes>>> answered(kTogether);
  HttpsMasaClient client(
      registrar_identity_, [this] { return std::vector{ca_.certificate}; },
      std::chrono::seconds(20));
  for (int i = 0; i < kTogether; ++i) {
    client.RequestVoucherAsync(
        BaseUrl(), voucher::Format::kCms, ToBytes(std::to_string(i)),
        [&answered, i](Result<Bytes> voucher) { answered[i].set_value(std::move(voucher)); });
  }
  for (int i = 0; i < kTogether; ++i) {
    auto voucher = answered[i].get_future().get();
    ASSERT_TRUE(voucher) << voucher.error().ToString();
    EXPECT_EQ(ToString(*voucher), "voucher for " + std::to_string(i));
  }
}

TEST_F(HttpsMasaClientTest, AnAsyncCallTheMasaDoesNotAnswerTimesOut) {
  StartHoldingMasa(1000);  // answers nothing in this test
  HttpsMasaClient client(
      registrar_identity_, [this] { return std::vector{ca_.certificate}; },
      std::chrono::milliseconds(300));
  auto result = AwaitVoucher(client, BaseUrl(), "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), ErrorCode::kTimeout);
  EXPECT_THAT(result.error().message(),
              ::testing::HasSubstr("did not answer POST /.well-known/brski/requestvoucher in time "
                                   "(0 bytes received of the response)"));
}

}  // namespace
}  // namespace concierge::registrar
