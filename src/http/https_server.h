#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/certificate.h"
#include "crypto/identity.h"
#include "http/http_message.h"
#include "http/socket_io.h"

namespace concierge::http {

// ConnectionInfo is what a handler knows about the TLS peer.
using ConnectionInfo = crypto::PeerIdentity;

using Handler = std::function<HttpResponse(const HttpRequest&, const ConnectionInfo&)>;
// Respond hands an answer back to its connection, from any thread, once; later calls, and
// calls after the server stopped, are ignored. A Respond dropped without being called answers
// 500, so a connection is never left waiting.
using Respond = std::function<void(HttpResponse)>;
// An AsyncHandler may answer after it returns: one that waits for another server (a registrar
// for its MASA) starts the call, returns, and responds when the answer comes, so the wait holds
// neither a worker nor a thread.
using AsyncHandler = std::function<void(const HttpRequest&, const ConnectionInfo&, Respond)>;

struct ServerOptions {
  // Threads that run the handler. Handlers do CPU work (signatures, the database) and may
  // block, so they run apart from the event loop: a slow one holds a worker, never a
  // connection's I/O. One that waits for another server answers through Respond instead.
  int workers = 32;
  // Threads that run the event loop (accepts, TLS handshakes, reads and writes); 0: one per core.
  int io_threads = 0;
  ParserLimits limits;
  // How long a connection may sit idle: before its TLS handshake begins and between requests.
  std::chrono::milliseconds idle_timeout{10000};
  // Total deadlines, not idle timers: a peer that trickles a byte now and then is cut off when
  // these run out, however steadily it sends. A request's deadline runs from its first byte
  // to its last, and again while its response is written.
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds request_timeout{15000};
  // Connections held at once, in all and from one IP address; more are closed when accepted.
  // A join proxy or NAT puts many devices behind one address, so the per-source cap is wide.
  int max_connections = 20000;
  int max_connections_per_source = 1024;
  // How the server words the refusals it makes itself (413, 414, 431, 408, 505, a handler that
  // failed), given the error and the status; plain text (as BRSKI asks) when unset.
  std::function<HttpResponse(const Error&, int status)> render_refusal;
};

struct ServerCounters {
  uint64_t accepted = 0;
  uint64_t refused_over_cap = 0;  // closed at accept: over max_connections(_per_source)
  uint64_t cut_off = 0;           // closed by a deadline (idle, handshake or request)
  uint64_t requests = 0;
  int open = 0;
};

// HttpsServer serves HTTP/1.1 over TLS on an event loop: any number of connections, idle or
// slow, cost memory but no thread. Handlers are called from the worker threads, several at
// once. Stop() (or destruction) stops accepting, closes every connection and waits for the
// handlers that are running; an answer given after that goes nowhere.
class HttpsServer {
 public:
  static Result<std::unique_ptr<HttpsServer>> Start(const HostPort& address,
                                                    crypto::OpenSslPtr<SSL_CTX> ctx,
                                                    Handler handler, ServerOptions options);
  static Result<std::unique_ptr<HttpsServer>> StartAsync(const HostPort& address,
                                                         crypto::OpenSslPtr<SSL_CTX> ctx,
                                                         AsyncHandler handler,
                                                         ServerOptions options);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  uint16_t port() const;
  ServerCounters counters() const;

  void Stop();

  struct Impl;

 private:
  explicit HttpsServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace concierge::http
