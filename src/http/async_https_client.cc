#include "http/async_https_client.h"

#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <openssl/err.h>

#include "http/tls.h"
#include "http/tls_step.h"

#include <boost/asio.hpp>

namespace concierge::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using ErrorCodeAsio = boost::system::error_code;

constexpr std::size_t kReadChunk = 8192;

// Link is one TLS connection to a server, used by one exchange at a time and kept idle between.
struct Link {
  explicit Link(asio::io_context& io) : socket(io) {}

  tcp::socket socket;
  crypto::OpenSslPtr<SSL> ssl;
};

class Exchange;

}  // namespace

struct AsyncHttpsClient::Impl {
  Impl(ContextFactory context_in, ClientOptions options_in, int max_per_server_in)
      : context(std::move(context_in)),
        options(options_in),
        max_per_server(std::max(1, max_per_server_in)) {}

  // The connections to one server: a new one is opened only while fewer than max_per_server
  // are open; past that, exchanges wait in turn for one to come free.
  struct Server {
    std::vector<std::unique_ptr<Link>> idle;
    int open = 0;  // idle and in use
    std::deque<std::weak_ptr<Exchange>> waiting;
  };

  enum class Grant { kIdleLink, kNewLink, kWait };

  // Acquire gives exchange an idle link, leave to open one, or a place in the queue.
  Grant Acquire(const std::string& authority, const std::shared_ptr<Exchange>& exchange,
                std::unique_ptr<Link>& link);
  // Release gives back an exchange's place: its link if it may be reused, or nullptr if it
  // was closed. The first exchange waiting gets it.
  void Release(const std::string& authority, std::unique_ptr<Link> link);

  // A reused connection the server had closed suggests the others idle as long are closed too.
  void DropIdle(const std::string& authority) {
    std::lock_guard lock(mutex);
    Server& server = servers[authority];
    server.open -= static_cast<int>(server.idle.size());
    server.idle.clear();
  }

  ContextFactory context;
  ClientOptions options;
  int max_per_server;
  std::mutex mutex;
  std::map<std::string, Server> servers;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::vector<std::thread> threads;
};

namespace {

// Exchange is one request and its response. Everything it does runs on its strand; the
// deadline covers the whole of it.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(AsyncHttpsClient::Impl& client, HostPort server, HttpRequest request,
           Callback<HttpResponse> done)
      : client_(client),
        strand_(asio::make_strand(client.io)),
        deadline_(strand_),
        resolver_(strand_),
        server_(std::move(server)),
        request_(std::move(request)),
        done_(std::move(done)),
        parser_(MessageParser::Kind::kResponse, client.options.limits) {
    bool v6 = server_.host.find(':') != std::string::npos;
    authority_ =
        (v6 ? "[" + server_.host + "]" : server_.host) + ":" + std::to_string(server_.port);
    host_header_ =
        server_.port == 443 ? server_.host : server_.host + ":" + std::to_string(server_.port);
    wire_ = SerializeRequest(request_, host_header_);
  }

  void Start() {
    asio::dispatch(strand_, [self = shared_from_this()] {
      self->deadline_.expires_after(self->client_.options.timeout);
      self->deadline_.async_wait([self](ErrorCodeAsio error) {
        if (!error) {
          self->OnDeadline();
        }
      });
      self->Begin();
    });
  }

  bool finished() const { return finished_; }

  // Resume hands a waiting exchange the place another gave back: its link, or leave to open
  // a new one.
  void Resume(std::unique_ptr<Link> link) {
    asio::post(strand_, [self = shared_from_this(), link = std::move(link)]() mutable {
      self->holds_place_ = true;
      if (self->finished_) {
        self->GiveBack(std::move(link));  // its deadline passed while it waited
      } else if (link) {
        self->UseIdle(std::move(link));
      } else {
        self->Connect();
      }
    });
  }

 private:
  using Continuation = void (Exchange::*)();
  using Grant = AsyncHttpsClient::Impl::Grant;

  void Begin() {
    std::unique_ptr<Link> idle;
    switch (client_.Acquire(authority_, shared_from_this(), idle)) {
      case Grant::kWait:
        return;  // Resume comes when a place frees
      case Grant::kIdleLink:
        holds_place_ = true;
        UseIdle(std::move(idle));
        return;
      case Grant::kNewLink:
        holds_place_ = true;
        Connect();
        return;
    }
  }

  void UseIdle(std::unique_ptr<Link> link) {
    link_ = std::move(link);
    reused_ = true;
    Write();
  }

  void GiveBack(std::unique_ptr<Link> link) {
    if (holds_place_) {
      holds_place_ = false;
      client_.Release(authority_, std::move(link));
    }
  }

  void Connect() {
    reused_ = false;
    link_ = std::make_unique<Link>(client_.io);
    resolver_.async_resolve(
        server_.host, std::to_string(server_.port),
        [self = shared_from_this()](ErrorCodeAsio error, tcp::resolver::results_type results) {
          if (self->finished_) {
            return;
          }
          if (error) {
            self->Fail(Error(ErrorCode::kUnavailable,
                             "cannot resolve " + self->server_.host + ": " + error.message()),
                       /*connecting=*/true);
            return;
          }
          asio::async_connect(self->link_->socket, results,
                              asio::bind_executor(self->strand_, [self](ErrorCodeAsio connect_error,
                                                                        const tcp::endpoint&) {
                                self->OnConnected(connect_error);
                              }));
        });
  }

  void OnConnected(ErrorCodeAsio error) {
    if (finished_) {
      return;
    }
    if (error) {
      Fail(Error(ErrorCode::kUnavailable, error.message()), /*connecting=*/true);
      return;
    }
    auto ctx = client_.context();
    if (!ctx) {
      Fail(ctx.error(), /*connecting=*/true);
      return;
    }
    link_->ssl.reset(SSL_new(ctx->get()));  // the session holds a reference to its context
    ErrorCodeAsio blocking;
    link_->socket.non_blocking(true, blocking);
    if (!link_->ssl || blocking ||
        SSL_set_fd(link_->ssl.get(), link_->socket.native_handle()) != 1) {
      Fail(crypto::OpenSslError(ErrorCode::kInternal, "creating TLS session"), true);
      return;
    }
    if (auto configured = ConfigureClientSession(link_->ssl.get(), server_.host, client_.options);
        !configured) {
      Fail(configured.error(), /*connecting=*/true);
      return;
    }
    Handshake();
  }

  void Handshake() {
    SSL* ssl = link_->ssl.get();
    int rc = SSL_connect(ssl);
    if (rc == 1) {
      Write();
      return;
    }
    int err = SSL_get_error(ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      Await(err == SSL_ERROR_WANT_WRITE ? TlsStep::kWantWrite : TlsStep::kWantRead,
            &Exchange::Handshake);
      return;
    }
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      crypto::ClearOpenSslErrors();
      Fail(Error(ErrorCode::kSecurity, std::string("TLS server certificate not trusted: ") +
                                           X509_verify_cert_error_string(verify)),
           /*connecting=*/true);
      return;
    }
    Fail(err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0
             ? Error(ErrorCode::kUnavailable, "TLS handshake: connection reset")
             : crypto::OpenSslError(ErrorCode::kUnavailable, "TLS handshake"),
         /*connecting=*/true);
  }

  // Await runs next once the socket is ready for what OpenSSL asked for.
  void Await(TlsStep want, Continuation next) {
    auto wait = want == TlsStep::kWantWrite ? tcp::socket::wait_write : tcp::socket::wait_read;
    link_->socket.async_wait(
        wait, asio::bind_executor(strand_, [self = shared_from_this(), next](ErrorCodeAsio error) {
          if (self->finished_) {
            return;
          }
          if (error) {
            self->Fail(Error(ErrorCode::kUnavailable, error.message()), false);
            return;
          }
          ((*self).*next)();
        }));
  }

  void Write() {
    while (written_ < wire_.size()) {
      std::size_t size = 0;
      TlsStep step = StepOf(
          link_->ssl.get(),
          SSL_write_ex(link_->ssl.get(), wire_.data() + written_, wire_.size() - written_, &size));
      if (step == TlsStep::kWantRead || step == TlsStep::kWantWrite) {
        Await(step, &Exchange::Write);
        return;
      }
      if (step != TlsStep::kDone) {
        Closed();
        return;
      }
      written_ += size;
    }
    Read();
  }

  void Read() {
    std::array<char, kReadChunk> chunk;
    std::size_t size = 0;
    TlsStep step =
        StepOf(link_->ssl.get(), SSL_read_ex(link_->ssl.get(), chunk.data(), chunk.size(), &size));
    if (step == TlsStep::kWantRead || step == TlsStep::kWantWrite) {
      Await(step, &Exchange::Read);
      return;
    }
    if (step != TlsStep::kDone) {
      Closed();
      return;
    }
    auto used = parser_.Feed(chunk.data(), size);
    if (!used) {
      Fail(used.error().WithContext(authority_ + " answering " + request_.method + " " +
                                    request_.target),
           false);
      return;
    }
    if (!parser_.Complete()) {
      Read();
      return;
    }
    Succeed();
  }

  // Closed: the server closed the connection, or broke it, before the response ended.
  void Closed() {
    if (reused_ && !parser_.Started()) {
      // A pooled connection the server closed while it was idle: once more on a new one.
      client_.DropIdle(authority_);
      link_.reset();
      written_ = 0;
      Connect();  // in the place this exchange holds
      return;
    }
    auto ended = parser_.FinishOnEof();
    if (!ended) {
      Fail(ended.error().WithContext(authority_ + " answering " + request_.method + " " +
                                     request_.target),
           false);
      return;
    }
    link_.reset();  // a response read to the connection's end
    Succeed();
  }

  void OnDeadline() {
    if (finished_) {
      return;
    }
    Finish(MakeError(ErrorCode::kTimeout, authority_ + " did not answer " + request_.method + " " +
                                              request_.target + " in time (" + parser_.Progress() +
                                              " of the response)"));
  }

  void Fail(Error error, bool connecting) {
    Finish(std::unexpected(connecting ? error.WithContext("connecting to " + authority_) : error));
  }

  void Succeed() {
    HttpResponse response = parser_.TakeResponse();
    if (link_ && response.keep_alive) {
      GiveBack(std::move(link_));
    }
    Finish(std::move(response));
  }

  void Finish(Result<HttpResponse> result) {
    finished_ = true;
    deadline_.cancel();
    ErrorCodeAsio ignored;
    resolver_.cancel();
    if (link_) {
      link_->socket.close(ignored);  // ends any wait still pending on it
      link_.reset();
    }
    GiveBack(nullptr);
    crypto::ClearOpenSslErrors();
    Callback<HttpResponse> done = std::move(done_);
    done(std::move(result));
  }

  AsyncHttpsClient::Impl& client_;
  Strand strand_;
  asio::steady_timer deadline_;
  tcp::resolver resolver_;
  HostPort server_;
  std::string authority_;
  std::string host_header_;
  HttpRequest request_;
  std::string wire_;
  std::size_t written_ = 0;
  Callback<HttpResponse> done_;
  MessageParser parser_;
  std::unique_ptr<Link> link_;
  bool reused_ = false;
  bool holds_place_ = false;  // one of the server's max_per_server places
  std::atomic<bool> finished_{false};
};

}  // namespace

AsyncHttpsClient::Impl::Grant AsyncHttpsClient::Impl::Acquire(
    const std::string& authority, const std::shared_ptr<Exchange>& exchange,
    std::unique_ptr<Link>& link) {
  std::lock_guard lock(mutex);
  Server& server = servers[authority];
  if (!server.idle.empty()) {
    link = std::move(server.idle.back());
    server.idle.pop_back();
    return Grant::kIdleLink;
  }
  if (server.open < max_per_server) {
    ++server.open;
    return Grant::kNewLink;
  }
  server.waiting.push_back(exchange);
  return Grant::kWait;
}

void AsyncHttpsClient::Impl::Release(const std::string& authority, std::unique_ptr<Link> link) {
  std::shared_ptr<Exchange> next;
  {
    std::lock_guard lock(mutex);
    Server& server = servers[authority];
    while (!next && !server.waiting.empty()) {
      next = server.waiting.front().lock();
      server.waiting.pop_front();
      if (next && next->finished()) {
        next.reset();
      }
    }
    if (!next) {
      if (link) {
        server.idle.push_back(std::move(link));
      } else {
        --server.open;
      }
      return;
    }
  }
  next->Resume(std::move(link));  // the place passes on; the count of open ones stays
}

AsyncHttpsClient::AsyncHttpsClient(ContextFactory context, ClientOptions options,
                                   int max_connections_per_server, int threads)
    : impl_(std::make_unique<Impl>(std::move(context), options, max_connections_per_server)) {
  IgnoreSigpipe();
  for (int i = 0; i < std::max(1, threads); ++i) {
    impl_->threads.emplace_back([raw = impl_.get()] { raw->io.run(); });
  }
}

AsyncHttpsClient::~AsyncHttpsClient() {
  impl_->work.reset();
  impl_->io.stop();
  for (auto& thread : impl_->threads) {
    thread.join();
  }
  // Idle connections go before the event loop they were opened on.
  std::lock_guard lock(impl_->mutex);
  impl_->servers.clear();
}

void AsyncHttpsClient::Send(const HostPort& server, HttpRequest request,
                            Callback<HttpResponse> done) {
  std::make_shared<Exchange>(*impl_, server, std::move(request), std::move(done))->Start();
}

}  // namespace concierge::http
