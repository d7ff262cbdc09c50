#include "http/https_server.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "http/tls.h"
#include "http/tls_step.h"

#include <boost/asio.hpp>

namespace concierge::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using ErrorCodeAsio = boost::system::error_code;

// After a refusal, how long and how much of what the client still sends is read and dropped:
// closing with unread input makes the kernel send a reset, which can reach the client before
// the refusal does. Long enough for a client on loopback or a LAN to read the refusal.
constexpr std::chrono::milliseconds kRefusalLinger{2000};
constexpr std::size_t kRefusalDrainLimit = 4 << 20;
// A failed accept (out of descriptors) is retried after a pause instead of in a busy loop.
constexpr std::chrono::milliseconds kAcceptRetry{50};
constexpr std::size_t kReadChunk = 8192;

std::string AddressText(const tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

// Every idle connection holds a descriptor; the soft limit (often 1024) is raised to the hard
// one so that the connection caps, not the process limit, decide what is refused.
void RaiseDescriptorLimit() {
  static std::once_flag once;
  std::call_once(once, [] {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
      limit.rlim_cur = limit.rlim_max;
      (void)::setrlimit(RLIMIT_NOFILE, &limit);
    }
  });
}

class Connection;

// ResponseGate lets an answer that a handler gives later, from another thread, reach its
// connection only while the server runs: Stop closes it before the event loop goes.
struct ResponseGate {
  std::mutex mutex;
  bool open = true;
};

}  // namespace

struct HttpsServer::Impl {
  Impl(crypto::OpenSslPtr<SSL_CTX> ctx, AsyncHandler handler_in, ServerOptions options_in)
      : options(options_in),
        handler(std::move(handler_in)),
        tls(std::move(ctx)),
        workers(static_cast<std::size_t>(std::max(1, options_in.workers))),
        acceptor(io),
        accept_retry(io) {}

  bool Admit(const std::string& source);
  void Release(const std::string& source, Connection* connection);
  void Accept();
  void Stop();

  ServerOptions options;
  AsyncHandler handler;
  std::shared_ptr<ResponseGate> gate = std::make_shared<ResponseGate>();

  // Declared before the event loop: connections still queued in it when it is destroyed
  // release their places here.
  mutable std::mutex mutex;
  std::map<std::string, int> per_source;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> live;
  ServerCounters counters;
  std::atomic<bool> stopping{false};
  std::mutex stop_mutex;
  bool stopped = false;

  asio::io_context io;
  crypto::OpenSslPtr<SSL_CTX> tls;
  asio::thread_pool workers;
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry;
  std::vector<std::thread> io_threads;
  uint16_t port = 0;
};

namespace {

// One client connection. Everything it does runs on its strand; the handler runs on a worker
// and hands its response back to the strand.
//
// OpenSSL works on the non-blocking socket itself and the event loop only says when the socket
// is ready, so a connection owns no buffers while it waits: OpenSSL releases its record
// buffers when they are empty (SSL_MODE_RELEASE_BUFFERS) and reads land in a buffer on the
// stack. A slow or idle TLS connection costs its SSL object and what it has sent so far.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpsServer::Impl& server, tcp::socket socket, Strand strand, std::string source)
      : server_(server),
        strand_(std::move(strand)),
        socket_(std::move(socket)),
        deadline_(strand_),
        parser_(MessageParser::Kind::kRequest, server.options.limits) {
    info_.address = std::move(source);
  }

  ~Connection() { server_.Release(info_.address, this); }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Start() {
    asio::dispatch(strand_, [self = shared_from_this()] { self->WaitForHello(); });
  }

  void Close() {
    asio::dispatch(strand_, [self = shared_from_this()] { self->CloseNow(); });
  }

  // CloseStopped closes the socket once the event loop no longer runs (no strand needed).
  void CloseStopped() { CloseNow(); }

 private:
  using Continuation = void (Connection::*)();

  // Nothing is allocated for TLS until the client says something: an idle TCP connection
  // costs a descriptor and this object.
  void WaitForHello() {
    Arm(server_.options.idle_timeout);
    Await(TlsStep::kWantRead, &Connection::Handshake);
  }

  // Await runs next once the socket is ready for what OpenSSL asked for, or closes the
  // connection if it is cancelled (a deadline, Stop) or fails.
  void Await(TlsStep want, Continuation next) {
    auto wait = want == TlsStep::kWantWrite ? tcp::socket::wait_write : tcp::socket::wait_read;
    socket_.async_wait(wait, [self = shared_from_this(), next](ErrorCodeAsio error) {
      if (self->closed_) {
        return;
      }
      if (error) {
        self->OnWaitFailed();
        return;
      }
      ((*self).*next)();
    });
  }

  void Handshake() {
    if (!ssl_) {
      ssl_.reset(SSL_new(server_.tls.get()));
      ErrorCodeAsio error;
      socket_.non_blocking(true, error);
      if (!ssl_ || error || SSL_set_fd(ssl_.get(), socket_.native_handle()) != 1) {
        CloseNow();
        return;
      }
      SSL_set_mode(ssl_.get(), SSL_MODE_RELEASE_BUFFERS);
      Arm(server_.options.handshake_timeout);
    }
    TlsStep step = StepOf(ssl_.get(), SSL_accept(ssl_.get()));
    if (step == TlsStep::kWantRead || step == TlsStep::kWantWrite) {
      Await(step, &Connection::Handshake);
      return;
    }
    if (step != TlsStep::kDone) {
      CloseNow();
      return;
    }
    KeepPeerCertificates();
    Arm(server_.options.idle_timeout);
    Read();
  }

  void KeepPeerCertificates() {
    if (X509* peer = SSL_get1_peer_certificate(ssl_.get())) {
      info_.certificate = crypto::Certificate::Adopt(peer);
      STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl_.get());
      // On the server side OpenSSL's peer chain excludes the leaf.
      for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
        info_.chain.push_back(crypto::Certificate::Share(sk_X509_value(chain, i)));
      }
    }
  }

  // Read takes what OpenSSL has (never waiting first: it may hold a whole record already)
  // and parses it; it waits on the socket only when OpenSSL needs more bytes.
  void Read() {
    std::array<char, kReadChunk> chunk;
    std::size_t size = 0;
    TlsStep step = StepOf(ssl_.get(), SSL_read_ex(ssl_.get(), chunk.data(), chunk.size(), &size));
    if (step == TlsStep::kWantRead || step == TlsStep::kWantWrite) {
      Await(step, &Connection::Read);
      return;
    }
    if (step != TlsStep::kDone) {
      CloseNow();  // the client closed or broke the connection; there is no one to answer
      return;
    }
    pending_.append(chunk.data(), size);
    Parse();
  }

  void OnWaitFailed() {
    if (deadline_passed_ && parser_.Started() && !responding_) {
      // A request that did not arrive in time, not an idle keep-alive connection: say so.
      Refuse(Refusal(
          Error(ErrorCode::kTimeout, "the request did not arrive within " +
                                         std::to_string(server_.options.request_timeout.count()) +
                                         " ms, the limit (" + parser_.Progress() + ")"),
          408));
      return;
    }
    CloseNow();
  }

  HttpResponse Refusal(const Error& error, int status) const {
    if (server_.options.render_refusal) {
      return server_.options.render_refusal(error, status);
    }
    HttpResponse refusal = MakeErrorResponse(error);
    refusal.status = status;
    return refusal;
  }

  void Parse() {
    bool was_started = parser_.Started();
    auto used = parser_.Feed(pending_.data(), pending_.size());
    if (!used) {
      BrokenLimit broken = parser_.broken_limit();
      int status = broken == BrokenLimit::kTarget    ? 414
                   : broken == BrokenLimit::kHeaders ? 431
                   : parser_.UnsupportedVersion()    ? 505
                                                     : HttpStatusFor(used.error());
      Refuse(Refusal(used.error(), status));
      return;
    }
    pending_.erase(0, *used);
    if (!was_started && parser_.Started()) {
      Arm(server_.options.request_timeout);
    }
    if (!parser_.Complete()) {
      Read();
      return;
    }
    Disarm();
    Dispatch(parser_.TakeRequest());
  }

  void Dispatch(HttpRequest request) {
    {
      std::lock_guard lock(server_.mutex);
      ++server_.counters.requests;
    }
    // The connection keeps itself while its handler has the request: the answer may come from
    // a thread that holds only a weak reference. CloseNow lets go.
    awaiting_answer_ = shared_from_this();
    asio::post(server_.workers, [self = shared_from_this(), request = std::move(request)] {
      auto pending = std::make_shared<PendingAnswer>(self, self->server_.gate, request.keep_alive);
      Respond respond = [pending](HttpResponse response) { pending->Deliver(std::move(response)); };
      try {
        self->server_.handler(request, self->info_, std::move(respond));
      } catch (const std::exception& exception) {
        // Handlers report errors as values; one that throws must not take a worker with it.
        pending->Deliver(self->Refusal(
            Error(ErrorCode::kInternal, std::string("the handler failed: ") + exception.what()),
            500));
      }
    });
  }

  // PendingAnswer is what a Respond holds: the way back to the connection, used once.
  class PendingAnswer {
   public:
    PendingAnswer(const std::shared_ptr<Connection>& connection, std::shared_ptr<ResponseGate> gate,
                  bool keep_alive)
        : connection_(connection), gate_(std::move(gate)), keep_alive_(keep_alive) {}

    PendingAnswer(const PendingAnswer&) = delete;
    PendingAnswer& operator=(const PendingAnswer&) = delete;

    ~PendingAnswer() {
      Deliver(
          MakeErrorResponse(Error(ErrorCode::kInternal, "the request's handler gave no answer")));
    }

    void Deliver(HttpResponse response) {
      if (answered_.exchange(true)) {
        return;
      }
      response.keep_alive = response.keep_alive && keep_alive_;
      // Under the gate's lock the event loop cannot go away between the check and the post.
      std::lock_guard lock(gate_->mutex);
      if (!gate_->open) {
        return;
      }
      if (auto connection = connection_.lock()) {
        asio::post(connection->strand_, [connection, response = std::move(response)]() mutable {
          connection->Answer(std::move(response));
        });
      }
    }

   private:
    std::weak_ptr<Connection> connection_;
    std::shared_ptr<ResponseGate> gate_;
    bool keep_alive_;
    std::atomic<bool> answered_{false};
  };

  void Answer(HttpResponse response) {
    awaiting_answer_.reset();  // the caller holds a reference of its own
    if (closed_) {
      return;
    }
    keep_alive_ = response.keep_alive && !server_.stopping.load();
    response.keep_alive = keep_alive_;
    out_ = SerializeResponse(response);
    written_ = 0;
    responding_ = true;
    after_write_ = &Connection::AfterResponse;
    // A client that does not read its response is cut off like one that does not send.
    Arm(server_.options.request_timeout);
    Write();
  }

  void Write() {
    while (written_ < out_.size()) {
      std::size_t size = 0;
      TlsStep step = StepOf(ssl_.get(), SSL_write_ex(ssl_.get(), out_.data() + written_,
                                                     out_.size() - written_, &size));
      if (step == TlsStep::kWantRead || step == TlsStep::kWantWrite) {
        Await(step, &Connection::Write);
        return;
      }
      if (step != TlsStep::kDone) {
        CloseNow();
        return;
      }
      written_ += size;
    }
    out_.clear();
    out_.shrink_to_fit();
    ((*this).*after_write_)();
  }

  void AfterResponse() {
    responding_ = false;
    if (!keep_alive_) {
      (void)SSL_shutdown(ssl_.get());  // sends close_notify; the client's is not waited for
      CloseNow();
      return;
    }
    parser_.Reset();
    Arm(server_.options.idle_timeout);
    if (pending_.empty()) {
      Read();
    } else {
      Parse();  // the client sent its next request already
    }
  }

  // Refuse answers a request that will not be read to its end, then stops writing and drops
  // what the client still sends for a bounded time and size before closing.
  void Refuse(HttpResponse refusal) {
    refusal.keep_alive = false;
    out_ = SerializeResponse(refusal);
    written_ = 0;
    responding_ = true;
    after_write_ = &Connection::AfterRefusal;
    Arm(kRefusalLinger);
    Write();
  }

  void AfterRefusal() {
    (void)SSL_shutdown(ssl_.get());
    crypto::ClearOpenSslErrors();
    ErrorCodeAsio ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    Drain();
  }

  void Drain() {
    std::array<char, kReadChunk> sink;
    while (true) {
      ErrorCodeAsio error;
      std::size_t size = socket_.read_some(asio::buffer(sink), error);
      if (error == asio::error::would_block) {
        socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](ErrorCodeAsio wait) {
          if (wait || self->closed_) {
            self->CloseNow();
            return;
          }
          self->Drain();
        });
        return;
      }
      drained_ += size;
      if (error || drained_ > kRefusalDrainLimit) {
        CloseNow();
        return;
      }
    }
  }

  // Arm starts the one deadline this connection has, replacing the previous one.
  void Arm(std::chrono::milliseconds timeout) {
    ++deadline_generation_;
    deadline_passed_ = false;
    deadline_.expires_after(timeout);
    deadline_.async_wait(
        [self = shared_from_this(), generation = deadline_generation_](ErrorCodeAsio error) {
          if (error || generation != self->deadline_generation_ || self->closed_) {
            return;
          }
          self->deadline_passed_ = true;
          {
            std::lock_guard lock(self->server_.mutex);
            ++self->server_.counters.cut_off;
          }
          // The pending wait ends with operation_aborted; OnWaitFailed decides what to say.
          ErrorCodeAsio ignored;
          self->socket_.cancel(ignored);
        });
  }

  void Disarm() {
    ++deadline_generation_;
    deadline_.cancel();
  }

  void CloseNow() {
    if (closed_) {
      return;
    }
    closed_ = true;
    Disarm();
    ErrorCodeAsio ignored;
    socket_.close(ignored);
    crypto::ClearOpenSslErrors();
    // Every caller holds a reference of its own, so this is never the last one.
    awaiting_answer_.reset();
  }

  HttpsServer::Impl& server_;
  Strand strand_;
  tcp::socket socket_;
  crypto::OpenSslPtr<SSL> ssl_;  // made when the client's first bytes arrive
  asio::steady_timer deadline_;
  uint64_t deadline_generation_ = 0;
  bool deadline_passed_ = false;
  bool closed_ = false;
  bool keep_alive_ = true;
  bool responding_ = false;
  std::string pending_;  // bytes received and not yet parsed (the next pipelined request)
  std::string out_;      // the response being written
  std::size_t written_ = 0;
  Continuation after_write_ = nullptr;
  std::size_t drained_ = 0;
  MessageParser parser_;
  ConnectionInfo info_;
  std::shared_ptr<Connection> awaiting_answer_;  // set while a handler has the request
};

}  // namespace

bool HttpsServer::Impl::Admit(const std::string& source) {
  std::lock_guard lock(mutex);
  ++counters.accepted;
  int& from_source = per_source[source];
  if (counters.open >= options.max_connections ||
      from_source >= options.max_connections_per_source) {
    ++counters.refused_over_cap;
    if (from_source == 0) {
      per_source.erase(source);
    }
    return false;
  }
  ++from_source;
  ++counters.open;
  return true;
}

void HttpsServer::Impl::Release(const std::string& source, Connection* connection) {
  std::lock_guard lock(mutex);
  live.erase(connection);
  --counters.open;
  auto it = per_source.find(source);
  if (it != per_source.end() && --it->second <= 0) {
    per_source.erase(it);
  }
}

void HttpsServer::Impl::Accept() {
  Strand strand = asio::make_strand(io);
  acceptor.async_accept(strand, [this, strand](ErrorCodeAsio error, tcp::socket socket) {
    if (stopping.load() || error == asio::error::operation_aborted) {
      return;
    }
    if (error) {
      accept_retry.expires_after(kAcceptRetry);
      accept_retry.async_wait([this](ErrorCodeAsio wait_error) {
        if (!wait_error && !stopping.load()) {
          Accept();
        }
      });
      return;
    }
    ErrorCodeAsio endpoint_error;
    tcp::endpoint peer = socket.remote_endpoint(endpoint_error);
    std::string source = endpoint_error ? std::string() : AddressText(peer);
    if (Admit(source)) {
      auto connection =
          std::make_shared<Connection>(*this, std::move(socket), strand, std::move(source));
      {
        std::lock_guard lock(mutex);
        live.emplace(connection.get(), connection);
      }
      connection->Start();
    } else {
      ErrorCodeAsio ignored;
      socket.close(ignored);
    }
    Accept();
  });
}

void HttpsServer::Impl::Stop() {
  std::lock_guard stop_lock(stop_mutex);
  if (stopped) {
    return;
  }
  stopped = true;
  stopping.store(true);
  {
    std::lock_guard lock(gate->mutex);
    gate->open = false;
  }
  asio::post(io, [this] {
    ErrorCodeAsio ignored;
    acceptor.close(ignored);
    accept_retry.cancel();
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(mutex);
      for (auto& [raw, weak] : live) {
        if (auto connection = weak.lock()) {
          open.push_back(std::move(connection));
        }
      }
    }
    for (auto& connection : open) {
      connection->Close();
    }
  });
  workers.join();  // the handlers that are running finish; their responses go nowhere
  io.stop();
  for (auto& thread : io_threads) {
    thread.join();
  }
  // Connections the posted Close did not reach before the loop stopped: no thread runs their
  // handlers any more, so they are closed from here, and their clients see the end at once.
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mutex);
    for (auto& [raw, weak] : live) {
      if (auto connection = weak.lock()) {
        open.push_back(std::move(connection));
      }
    }
  }
  for (auto& connection : open) {
    connection->CloseStopped();
  }
}

Result<std::unique_ptr<HttpsServer>> HttpsServer::Start(const HostPort& address,
                                                        crypto::OpenSslPtr<SSL_CTX> ctx,
                                                        Handler handler, ServerOptions options) {
  return StartAsync(
      address, std::move(ctx),
      [handler = std::move(handler)](const HttpRequest& request, const ConnectionInfo& peer,
                                     const Respond& respond) { respond(handler(request, peer)); },
      options);
}

Result<std::unique_ptr<HttpsServer>> HttpsServer::StartAsync(const HostPort& address,
                                                             crypto::OpenSslPtr<SSL_CTX> ctx,
                                                             AsyncHandler handler,
                                                             ServerOptions options) {
  IgnoreSigpipe();
  RaiseDescriptorLimit();
  // The listening socket is made as before (ListenTcp names the address in its errors) and
  // handed to the event loop.
  ASSIGN_OR_RETURN(Fd listener, ListenTcp(address, 4096));
  auto impl = std::make_unique<Impl>(std::move(ctx), std::move(handler), options);
  impl->port = LocalPort(listener.get());
  sockaddr_storage bound{};
  socklen_t bound_size = sizeof(bound);
  (void)::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&bound), &bound_size);
  ErrorCodeAsio error;
  impl->acceptor.assign(bound.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listener.get(), error);
  if (error) {
    return MakeError(ErrorCode::kUnavailable, "cannot listen on " + address.host + ":" +
                                                  std::to_string(address.port) + ": " +
                                                  error.message());
  }
  (void)listener.Release();
  impl->Accept();
  int io_threads = options.io_threads > 0
                       ? options.io_threads
                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < io_threads; ++i) {
    impl->io_threads.emplace_back([raw = impl.get()] { raw->io.run(); });
  }
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

HttpsServer::HttpsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpsServer::~HttpsServer() {
  try {
    Stop();
  } catch (const std::exception&) {
    // Stopping throws only if a thread cannot be joined or memory runs out; a destructor can
    // do nothing better than let the process go on.
  }
}

uint16_t HttpsServer::port() const {
  return impl_->port;
}

ServerCounters HttpsServer::counters() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->counters;
}

void HttpsServer::Stop() {
  impl_->Stop();
}

}  // namespace concierge::http
