#include "http/https_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "http/tls_stream.h"

namespace concierge::http {
namespace {

// Long enough for a client on loopback or a LAN to see the refusal, short enough that a
// client streaming a huge body cannot hold a worker.
constexpr std::chrono::milliseconds kRefusalLinger{2000};
constexpr std::size_t kRefusalDrainLimit = 4 << 20;

}  // namespace

Result<std::unique_ptr<HttpsServer>> HttpsServer::Start(const HostPort& address,
                                                        crypto::OpenSslPtr<SSL_CTX> ctx,
                                                        Handler handler, ServerOptions options) {
  ASSIGN_OR_RETURN(Fd listener, ListenTcp(address, 1024));
  std::unique_ptr<HttpsServer> server(
      new HttpsServer(std::move(listener), std::move(ctx), std::move(handler), options));
  for (int i = 0; i < options.workers; ++i) {
    server->workers_.emplace_back([raw = server.get()] { raw->WorkerLoop(); });
  }
  return server;
}

HttpsServer::HttpsServer(Fd listener, crypto::OpenSslPtr<SSL_CTX> ctx, Handler handler,
                         ServerOptions options)
    : listener_(std::move(listener)),
      port_(LocalPort(listener_.get())),
      ctx_(std::move(ctx)),
      handler_(std::move(handler)),
      options_(options) {}

HttpsServer::~HttpsServer() {
  Stop();
}

void HttpsServer::Stop() {
  if (stopping_.exchange(true)) {
    return;
  }
  ::shutdown(listener_.get(), SHUT_RDWR);  // wakes every worker blocked in accept()
  {
    // Idle keep-alive connections would otherwise hold their workers until the idle timeout.
    std::lock_guard lock(connections_mutex_);
    for (int fd : connections_) {
      ::shutdown(fd, SHUT_RDWR);
    }
  }
  for (auto& worker : workers_) {
    worker.join();
  }
}

void HttpsServer::WorkerLoop() {
  while (!stopping_.load()) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      if (stopping_.load()) {
        return;
      }
      // Out of descriptors or memory: back off instead of spinning on accept().
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    {
      std::lock_guard lock(connections_mutex_);
      if (stopping_.load()) {
        ::close(fd);
        return;
      }
      connections_.insert(fd);
    }
    Serve(Fd(fd));
  }
}

void HttpsServer::Serve(Fd connection) {
  int fd = connection.get();
  SetIoTimeout(fd, options_.idle_timeout);
  crypto::OpenSslPtr<SSL> ssl(SSL_new(ctx_.get()));
  TlsStream stream(std::move(connection), std::move(ssl));

  // Declared after stream so the socket leaves the set before stream closes it; a closed
  // number may be reused by another worker at once.
  struct Forget {
    HttpsServer* server;
    int fd;

    ~Forget() {
      std::lock_guard lock(server->connections_mutex_);
      server->connections_.erase(fd);
    }
  } forget{this, fd};

  if (stream.ssl() == nullptr) {
    crypto::ClearOpenSslErrors();
    return;
  }
  if (!stream.Handshake(/*server=*/true)) {
    crypto::ClearOpenSslErrors();
    return;
  }
  ConnectionInfo info;
  info.peer_address = PeerAddress(fd);
  if (X509* peer = SSL_get1_peer_certificate(stream.ssl())) {
    info.peer_certificate = crypto::Certificate::Adopt(peer);
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(stream.ssl());
    // On the server side OpenSSL's peer chain excludes the leaf.
    for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
      X509* cert = sk_X509_value(chain, i);
      X509_up_ref(cert);
      info.peer_chain.push_back(crypto::Certificate::Adopt(cert));
    }
  }
  MessageParser parser(MessageParser::Kind::kRequest, options_.limits);
  while (!stopping_.load()) {
    auto read = stream.ReadMessage(parser);
    if (!read) {
      std::optional<HttpResponse> refusal;
      if (read.error().code() == ErrorCode::kBadFormat ||
          read.error().code() == ErrorCode::kTooLarge) {
        refusal = MakeErrorResponse(read.error());
        BrokenLimit broken = parser.broken_limit();
        refusal->status = broken == BrokenLimit::kTarget    ? 414
                          : broken == BrokenLimit::kHeaders ? 431
                                                            : refusal->status;
      } else if (read.error().code() == ErrorCode::kTimeout && parser.Started()) {
        // A request that stops arriving, not an idle keep-alive connection: say so.
        refusal = MakeErrorResponse(
            Error(ErrorCode::kTimeout, "the request stalled: nothing arrived for " +
                                           std::to_string(options_.idle_timeout.count()) +
                                           " ms, the limit (" + parser.Progress() + ")"));
        refusal->status = 408;
      }
      if (refusal) {
        refusal->keep_alive = false;
        (void)stream.WriteAll(SerializeResponse(*refusal));
        stream.CloseAfterRefusal(kRefusalLinger, kRefusalDrainLimit);
      }
      return;
    }
    HttpRequest request = parser.TakeRequest();
    HttpResponse response = handler_(request, info);
    response.keep_alive = response.keep_alive && request.keep_alive;
    if (!stream.WriteAll(SerializeResponse(response)) || !response.keep_alive) {
      stream.Shutdown();
      return;
    }
  }
}

}  // namespace concierge::http
