#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "crypto/certificate.h"
#include "http/http_message.h"
#include "http/socket_io.h"

namespace concierge::http {

// ConnectionInfo is what a handler knows about the TLS peer.
struct ConnectionInfo {
  std::optional<crypto::Certificate> peer_certificate;
  std::vector<crypto::Certificate> peer_chain;  // as sent, without the leaf
  std::string peer_address;  // the client's IP address ("" if unknown); IPv4 as dotted quad
};

using Handler = std::function<HttpResponse(const HttpRequest&, const ConnectionInfo&)>;

struct ServerOptions {
  int workers = 32;
  ParserLimits limits;
  std::chrono::milliseconds idle_timeout{10000};
};

// HttpsServer serves HTTP/1.1 over TLS with a fixed pool of worker threads, each accepting and
// serving one connection at a time (keep-alive until idle_timeout). The handler is called from
// several threads at once. Stop() (or destruction) closes the socket and joins the workers.
class HttpsServer {
 public:
  static Result<std::unique_ptr<HttpsServer>> Start(const HostPort& address,
                                                    crypto::OpenSslPtr<SSL_CTX> ctx,
                                                    Handler handler, ServerOptions options);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  uint16_t port() const { return port_; }

  void Stop();

 private:
  HttpsServer(Fd listener, crypto::OpenSslPtr<SSL_CTX> ctx, Handler handler, ServerOptions options);
  void WorkerLoop();
  void Serve(Fd connection);

  Fd listener_;
  uint16_t port_ = 0;
  crypto::OpenSslPtr<SSL_CTX> ctx_;
  Handler handler_;
  ServerOptions options_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> workers_;
  std::mutex connections_mutex_;
  std::set<int> connections_;  // open connection sockets, shut down by Stop()
};

}  // namespace concierge::http
