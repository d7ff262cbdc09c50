// The HTTPS server's refusals over real TLS on loopback: each says what the client sent and
// the limit it broke, with the status HTTP has for it (408, 413, 414, 431).
#include "http/https_server.h"

#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes/test_pki.h"
#include "http/async_https_client.h"
#include "http/https_client.h"
#include "http/tls_stream.h"

namespace concierge::http {
namespace {

using ::testing::HasSubstr;

class HttpsServerTest : public ::testing::Test {
 protected:
  HttpsServerTest()
      : ca_(testing::MakeTestCa(SystemClock().Now())), identity_(testing::MakeTlsIdentity(ca_)) {
    ServerOptions options;
    options.workers = 2;
    options.idle_timeout = std::chrono::milliseconds(300);
    options.request_timeout = std::chrono::milliseconds(300);
    options.limits = {.max_target_bytes = 256, .max_header_bytes = 1024, .max_body_bytes = 2048};
    server_ = HttpsServer::Start(
                  {"127.0.0.1", 0}, MakeServerContext(identity_, false).value(),
                  [](const HttpRequest& request, const ConnectionInfo&) {
                    return MakeResponse(200, "text/plain", request.body);
                  },
                  options)
                  .value();
    client_ctx_ = MakeClientContext(std::nullopt, {ca_.certificate}).value();
  }

  // Send writes raw bytes on a new connection and reads one response.
  HttpResponse SendRaw(std::string_view bytes) {
    Fd fd = ConnectTcp({"127.0.0.1", server_->port()}, std::chrono::seconds(5)).value();
    TlsStream stream(std::move(fd), crypto::OpenSslPtr<SSL>(SSL_new(client_ctx_.get())));
    EXPECT_TRUE(stream.Handshake(/*server=*/false));
    EXPECT_TRUE(stream.WriteAll(bytes));
    MessageParser parser(MessageParser::Kind::kResponse, {});
    auto read = stream.ReadMessage(parser);
    EXPECT_TRUE(read) << read.error().ToString();
    return parser.TakeResponse();
  }

  crypto::KeyAndCertificate ca_;
  TlsIdentity identity_;
  std::unique_ptr<HttpsServer> server_;
  crypto::OpenSslPtr<SSL_CTX> client_ctx_;
};

TEST_F(HttpsServerTest, ALongTargetIs414AndLongHeadersAre431) {
  HttpResponse long_target = SendRaw("GET /" + std::string(300, 'a') + " HTTP/1.1\r\n\r\n");
  EXPECT_EQ(long_target.status, 414);
  EXPECT_EQ(long_target.body, "the request target is longer than 256 bytes, the limit\n");
  HttpResponse long_headers =
      SendRaw("GET / HTTP/1.1\r\nhost: a\r\nx-big: " + std::string(1100, 'b') + "\r\n\r\n");
  EXPECT_EQ(long_headers.status, 431);
  EXPECT_EQ(long_headers.body, "the request's headers exceed 1024 bytes, the limit\n");
}

TEST_F(HttpsServerTest, ABodyOverTheLimitIs413AndNamesItsSize) {
  HttpResponse declared = SendRaw("POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 5000\r\n\r\n" +
                                  std::string(5000, 'c'));
  EXPECT_EQ(declared.status, 413);
  EXPECT_EQ(declared.body, "the request's body is 5000 bytes, more than the limit of 2048\n");
  HttpResponse chunked =
      SendRaw("POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n1000\r\n" +
              std::string(4096, 'c') + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.status, 413);
  EXPECT_EQ(chunked.body, "the request's body exceeds 2048 bytes, more than the limit of 2048\n");
}

// RFC 9112 strictness that Beast leaves to its user: no Host, another version, obs-fold.
TEST_F(HttpsServerTest, WhatHttp11ForbidsIsRefusedWithItsStatus) {
  HttpResponse no_host = SendRaw("GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(no_host.status, 400);
  EXPECT_EQ(no_host.body, "an HTTP/1.1 request must carry a Host header (RFC 9112 §3.2)\n");
  HttpResponse http2 = SendRaw("GET / HTTP/2.0\r\nhost: a\r\n\r\n");
  EXPECT_EQ(http2.status, 505);
  EXPECT_EQ(http2.body, "HTTP/2.0 is not supported: this server speaks HTTP/1.1\n");
  HttpResponse folded = SendRaw("GET / HTTP/1.1\r\nhost: a\r\nx-a: one\r\n two\r\n\r\n");
  EXPECT_EQ(folded.status, 400);
  EXPECT_EQ(
      folded.body,
      "a header line starts with whitespace: obs-fold or a space before the first header (RFC "
      "9112 §5.2, §2.2)\n");
  HttpResponse http10 = SendRaw("POST / HTTP/1.0\r\ncontent-length: 2\r\n\r\nok");
  EXPECT_EQ(http10.status, 200) << "HTTP/1.0 has no Host requirement";
}

// A body that stopped arriving was answered "stream ended at an unexpected time".
TEST_F(HttpsServerTest, ARequestThatStallsIs408AndSaysHowFarItGot) {
  HttpResponse stalled =
      SendRaw("POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 100\r\n\r\n0123456789");
  EXPECT_EQ(stalled.status, 408);
  EXPECT_THAT(stalled.body, HasSubstr("the request did not arrive within 300 ms, the limit"));
  EXPECT_THAT(stalled.body, HasSubstr("10 of a 100-byte body"));
  HttpResponse fine = SendRaw("POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\n\r\nok");
  EXPECT_EQ(fine.status, 200);
  EXPECT_EQ(fine.body, "ok");
}

// The server reset its timer on every byte: a client trickling one byte every 100 ms held a
// connection (and, with the thread-per-connection server, a worker) for as long as it liked.
TEST_F(HttpsServerTest, ARequestTrickledSlowlyIsCutOffByItsTotalDeadline) {
  Fd fd = ConnectTcp({"127.0.0.1", server_->port()}, std::chrono::seconds(5)).value();
  TlsStream stream(std::move(fd), crypto::OpenSslPtr<SSL>(SSL_new(client_ctx_.get())));
  ASSERT_TRUE(stream.Handshake(/*server=*/false));
  ASSERT_TRUE(stream.WriteAll("POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 100\r\n\r\n"));
  constexpr int kTrickled = 40;  // 4 s of body bytes, far past the 300 ms deadline
  for (int i = 0; i < kTrickled; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!stream.WriteAll("x")) {
      break;  // the server has stopped reading: that is the point
    }
  }
  MessageParser parser(MessageParser::Kind::kResponse, {});
  ASSERT_TRUE(stream.ReadMessage(parser));
  HttpResponse cut = parser.TakeResponse();
  EXPECT_EQ(cut.status, 408);
  EXPECT_THAT(cut.body, HasSubstr("did not arrive within 300 ms"));
  // The body that had arrived when the deadline passed: well short of all that was trickled.
  std::smatch got;
  ASSERT_TRUE(std::regex_search(cut.body, got, std::regex("(\\d+) of a 100-byte body")))
      << cut.body;
  EXPECT_LT(std::stoi(got[1]), kTrickled);
}

// Connections are capped per source address; one more is closed as soon as it is accepted,
// and the others are served as before.
TEST(HttpsServerCapTest, ConnectionsOverThePerSourceCapAreClosedAtAccept) {
  auto ca = testing::MakeTestCa(SystemClock().Now());
  auto identity = testing::MakeTlsIdentity(ca);
  ServerOptions options;
  options.workers = 1;
  options.max_connections_per_source = 3;
  auto server = HttpsServer::Start(
                    {"127.0.0.1", 0}, MakeServerContext(identity, false).value(),
                    [](const HttpRequest&, const ConnectionInfo&) {
                      return MakeResponse(200, "text/plain", "ok");
                    },
                    options)
                    .value();
  std::vector<Fd> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(ConnectTcp({"127.0.0.1", server->port()}, std::chrono::seconds(5)).value());
  }
  // The fourth connection from 127.0.0.1 is accepted by the kernel and closed by the server.
  Fd over = ConnectTcp({"127.0.0.1", server->port()}, std::chrono::seconds(5)).value();
  char byte = 0;
  SetIoTimeout(over.get(), std::chrono::seconds(10));
  EXPECT_EQ(::read(over.get(), &byte, 1), 0) << "the server should close the connection";
  ServerCounters counters = server->counters();
  EXPECT_EQ(counters.refused_over_cap, 1u);
  EXPECT_EQ(counters.open, 3);
  // Their places are freed when they close, and the next client is served.
  held.clear();
  for (int i = 0; i < 500 && server->counters().open > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server->counters().open, 0);
  auto client_ctx = MakeClientContext(std::nullopt, {ca.certificate}).value();
  auto client = HttpsClient::Connect({"127.0.0.1", server->port()}, client_ctx.get(), {}).value();
  auto answer = Get(client, "/");
  ASSERT_TRUE(answer) << answer.error().ToString();
  EXPECT_EQ(answer->body, "ok");
}

// A handler that answers later, from a thread of its own: the answers of requests that wait
// together must all arrive, though the server has one worker. Were the worker held until each
// answer, the second request would never reach the handler and the first never be answered.
class AsyncAnswerTest : public ::testing::Test {
 protected:
  AsyncAnswerTest()
      : ca_(testing::MakeTestCa(SystemClock().Now())), identity_(testing::MakeTlsIdentity(ca_)) {
    client_ctx_ = MakeClientContext(std::nullopt, {ca_.certificate}).value();
  }

  void Start(AsyncHandler handler) {
    ServerOptions options;
    options.workers = 1;
    server_ = HttpsServer::StartAsync({"127.0.0.1", 0}, MakeServerContext(identity_, false).value(),
                                      std::move(handler), options)
                  .value();
  }

  Result<HttpResponse> Request(const std::string& path) {
    ClientOptions options;
    options.timeout = std::chrono::seconds(20);
    ASSIGN_OR_RETURN(auto client, HttpsClient::Connect({"127.0.0.1", server_->port()},
                                                       client_ctx_.get(), options));
    return Get(client, path);
  }

  crypto::KeyAndCertificate ca_;
  TlsIdentity identity_;
  crypto::OpenSslPtr<SSL_CTX> client_ctx_;
  std::unique_ptr<HttpsServer> server_;
};

TEST_F(AsyncAnswerTest, RequestsWaitingForAnAnswerHoldNoWorker) {
  constexpr int kWaiting = 3;
  std::mutex mutex;
  std::vector<std::pair<std::string, Respond>> held;
  std::thread answerer;
  Start([&](const HttpRequest& request, const ConnectionInfo&, Respond respond) {
    std::lock_guard lock(mutex);
    held.emplace_back(request.target, std::move(respond));
    if (held.size() == kWaiting) {
      answerer = std::thread([answers = std::move(held)] {
        for (const auto& [target, answer] : answers) {
          answer(MakeResponse(200, "text/plain", "answered " + target));
        }
      });
    }
  });
  std::vector<std::thread> clients;
  std::vector<Result<HttpResponse>> results(kWaiting, MakeError(ErrorCode::kInternal, "unset"));
  for (int i = 0; i < kWaiting; ++i) {
    clients.emplace_back([&, i] { results[i] = Request("/" + std::to_string(i)); });
  }
  for (auto& client : clients) {
    client.join();
  }
  if (answerer.joinable()) {
    answerer.join();
  }
  // The handler may still be releasing `mutex` after its answers arrived: stop the server (its
  // workers done) before the test's locals go.
  server_->Stop();
  for (int i = 0; i < kWaiting; ++i) {
    ASSERT_TRUE(results[i]) << results[i].error().ToString();
    EXPECT_EQ(results[i]->body, "answered /" + std::to_string(i));
  }
}

TEST_F(AsyncAnswerTest, AHandlerThatDropsItsResponderAnswers500AndOnlyTheFirstAnswerCounts) {
  Start([](const HttpRequest& request, const ConnectionInfo&, Respond respond) {
    if (request.target == "/twice") {
      respond(MakeResponse(200, "text/plain", "first"));
      respond(MakeResponse(201, "text/plain", "second"));
    }
    // "/dropped": the responder goes out of scope unanswered.
  });
  auto dropped = Request("/dropped");
  ASSERT_TRUE(dropped) << dropped.error().ToString();
  EXPECT_EQ(dropped->status, 500);
  EXPECT_EQ(dropped->body, "the request's handler gave no answer\n");
  auto twice = Request("/twice");
  ASSERT_TRUE(twice) << twice.error().ToString();
  EXPECT_EQ(twice->status, 200);
  EXPECT_EQ(twice->body, "first");
}

TEST_F(AsyncAnswerTest, AnAnswerAfterTheServerStoppedGoesNowhere) {
  std::mutex mutex;
  std::condition_variable arrived;
  std::optional<Respond> held;
  Start([&](const HttpRequest&, const ConnectionInfo&, Respond respond) {
    std::lock_guard lock(mutex);
    held = std::move(respond);
    arrived.notify_all();
  });
  std::thread client([&] {
    auto cut = Request("/late");
    EXPECT_FALSE(cut) << "the server stopped before it answered";
  });
  bool got_request = false;
  {
    std::unique_lock lock(mutex);
    got_request =
        arrived.wait_for(lock, std::chrono::seconds(20), [&] { return held.has_value(); });
  }
  server_->Stop();
  client.join();
  server_.reset();
  ASSERT_TRUE(got_request);
  // The connection and the server are gone; this must touch neither (ASan would say).
  std::lock_guard lock(mutex);
  (*held)(MakeResponse(200, "text/plain", "too late"));
  held.reset();
}

// The asynchronous client opens no more connections to a server than its cap, however many
// requests it is given at once: the others wait for a connection to come free and reuse it.
TEST_F(AsyncAnswerTest, TheAsyncClientKeepsToItsConnectionCap) {
  Start([](const HttpRequest& request, const ConnectionInfo&, const Respond& respond) {
    respond(MakeResponse(200, "text/plain", "echo " + request.target));
  });
  std::shared_ptr<SSL_CTX> ctx(MakeClientContext(std::nullopt, {ca_.certificate}).value().release(),
                               SSL_CTX_free);
  ClientOptions options;
  options.timeout = std::chrono::seconds(20);
  constexpr int kRequests = 8;
  // Before the client, so the client's thread is gone before the promises it fulfils.
  std::vector<std::promise<Result<HttpResponse>>> answered(kRequests);
  AsyncHttpsClient client([ctx]() -> Result<std::shared_ptr<SSL_CTX>> { return ctx; }, options,
                          /*max_connections_per_server=*/2);
  for (int i = 0; i < kRequests; ++i) {
    HttpRequest request;
    request.method = "GET";
    request.target = "/" + std::to_string(i);
    client.Send({"127.0.0.1", server_->port()}, request,
                [&answered, i](Result<HttpResponse> response) {
                  answered[i].set_value(std::move(response));
                });
  }
  for (int i = 0; i < kRequests; ++i) {
    auto response = answered[i].get_future().get();
    ASSERT_TRUE(response) << response.error().ToString();
    EXPECT_EQ(response->body, "echo /" + std::to_string(i));
  }
  EXPECT_LE(server_->counters().accepted, 2u);
}

TEST(MessageParserEofTest, AMessageCutShortSaysHowFarItGot) {
  MessageParser parser(MessageParser::Kind::kRequest, {});
  std::string text = "POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\nabc";
  ASSERT_TRUE(parser.Feed(text.data(), text.size()));
  auto cut = parser.FinishOnEof();
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(cut.error().message(), "the connection closed before the request ended (" +
                                       std::to_string(text.size()) +
                                       " bytes received, 3 of a 10-byte body)");
  MessageParser response(MessageParser::Kind::kResponse, {});
  std::string until_close = "HTTP/1.1 200 OK\r\n\r\nall of it";
  ASSERT_TRUE(response.Feed(until_close.data(), until_close.size()));
  EXPECT_TRUE(response.FinishOnEof()) << "a response may end with the connection";
  EXPECT_EQ(response.TakeResponse().body, "all of it");
}

}  // namespace
}  // namespace concierge::http
