// Cost of one HTTPS exchange over loopback with this project's TLS server and client: a fresh
// mutually authenticated handshake plus one request, versus a request on a kept-alive
// connection. Compare with the P-256 operations a handshake needs (crypto_bench).
#include <benchmark/benchmark.h>

#include "fakes/test_pki.h"
#include "http/https_client.h"
#include "http/https_server.h"
#include "http/tls.h"

namespace concierge {
namespace {

struct Fixture {
  Fixture() {
    auto ca = testing::MakeTestCa(SystemClock().Now());
    ca_cert = ca.certificate;
    server_identity = testing::MakeTlsIdentity(ca);
    client_identity = testing::MakeTlsIdentity(ca);
    auto ctx = http::MakeServerContext(*server_identity, true).value();
    server = http::HttpsServer::Start({"127.0.0.1", 0}, std::move(ctx),
                                      [](const http::HttpRequest&, const http::ConnectionInfo&) {
                                        return http::MakeResponse(200, "text/plain", "ok");
                                      },
                                      {})
                 .value();
    client_ctx = http::MakeClientContext(*client_identity, {*ca_cert}).value();
  }

  std::optional<crypto::Certificate> ca_cert;
  std::optional<http::TlsIdentity> server_identity;
  std::optional<http::TlsIdentity> client_identity;
  std::unique_ptr<http::HttpsServer> server;
  crypto::OpenSslPtr<SSL_CTX> client_ctx;
};

Fixture& Shared() {
  static Fixture fixture;
  return fixture;
}

void HandshakeAndRequest(benchmark::State& state) {
  auto& f = Shared();
  for (auto _ : state) {
    auto client =
        http::HttpsClient::Connect({"127.0.0.1", f.server->port()}, f.client_ctx.get(), {});
    benchmark::DoNotOptimize(http::Get(*client, "/"));
  }
}

BENCHMARK(HandshakeAndRequest)->UseRealTime();

void RequestOnKeptAliveConnection(benchmark::State& state) {
  auto& f = Shared();
  auto client = http::HttpsClient::Connect({"127.0.0.1", f.server->port()}, f.client_ctx.get(), {});
  for (auto _ : state) {
    benchmark::DoNotOptimize(http::Get(*client, "/"));
  }
}

BENCHMARK(RequestOnKeptAliveConnection)->UseRealTime();

}  // namespace
}  // namespace concierge

BENCHMARK_MAIN();
