#pragma once

#include <functional>
#include <memory>

#include "common/scheduler.h"
#include "common/url.h"
#include "http/https_client.h"

namespace concierge::http {

// AsyncHttpsClient sends HTTPS requests from event-loop threads of its own, so no caller waits
// for an answer: Send returns at once, and done runs on one of those threads when the response
// has been read, or with an error when the connection fails or options.timeout (for the whole
// exchange, waiting for a connection included) runs out. Keep-alive connections are kept per
// server and reused; a reused one the server had closed meanwhile is replaced once. At most
// max_connections_per_server are open to one server: a site onboarding thousands of devices
// must not open thousands of connections to their maker's MASA. Past that, requests wait in
// turn for a connection to come free. Thread-safe.
class AsyncHttpsClient {
 public:
  // ContextFactory makes the TLS context for each new connection; it is asked each time, so
  // trust anchors that change take effect without a restart.
  using ContextFactory = std::function<Result<std::shared_ptr<SSL_CTX>>()>;

  // options.server_name is ignored: each server is checked against, and sent SNI for, the
  // host it is reached at.
  AsyncHttpsClient(ContextFactory context, ClientOptions options,
                   int max_connections_per_server = 64, int threads = 2);
  // Stops the threads; the callbacks of requests still in flight are dropped uncalled.
  ~AsyncHttpsClient();
  AsyncHttpsClient(const AsyncHttpsClient&) = delete;
  AsyncHttpsClient& operator=(const AsyncHttpsClient&) = delete;

  void Send(const HostPort& server, HttpRequest request, Callback<HttpResponse> done);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace concierge::http
