#include "http/async_https_client.h"

#include <array>
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
constexpr std::size_t kMaxIdlePerServer = 64;

// Link is one TLS connection to a server, used by one exchange at a time and kept idle between.
struct Link {
  explicit Link(asio::io_context& io) : socket(io) {}

  tcp::socket socket;
  crypto::OpenSslPtr<SSL> ssl;
};

}  // namespace

struct AsyncHttpsClient::Impl {
  Impl(ContextFactory context_in, ClientOptions options_in)
      : context(std::move(context_in)), options(options_in) {}

  std::unique_ptr<Link> TakeIdle(const std::string& authority) {
    std::lock_guard lock(mutex);
    auto it = idle.find(authority);
    if (it == idle.end() || it->second.empty()) {
      return nullptr;
    }
    std::unique_ptr<Link> link = std::move(it->second.back());
    it->second.pop_back();
    return link;
  }

  void KeepIdle(const std::string& authority, std::unique_ptr<Link> link) {
    std::lock_guard lock(mutex);
    auto& links = idle[authority];
    if (links.size() < kMaxIdlePerServer) {
      links.push_back(std::move(link));
    }
  }

  // A reused connection the server had closed suggests the others idle as long are closed too.
  void DropIdle(const std::string& authority) {
    std::lock_guard lock(mutex);
    idle.erase(authority);
  }

  ContextFactory context;
  ClientOptions options;
  std::mutex mutex;
  std::map<std::string, std::vector<std::unique_ptr<Link>>> idle;
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
      self->Begin(/*fresh=*/false);
    });
  }

 private:
  using Continuation = void (Exchange::*)();

  void Begin(bool fresh) {
    link_ = fresh ? nullptr : client_.TakeIdle(authority_);
    reused_ = link_ != nullptr;
    if (reused_) {
      Write();
      return;
    }
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
      Begin(/*fresh=*/true);
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
      client_.KeepIdle(authority_, std::move(link_));
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
  bool finished_ = false;
};

}  // namespace

AsyncHttpsClient::AsyncHttpsClient(ContextFactory context, ClientOptions options, int threads)
    : impl_(std::make_unique<Impl>(std::move(context), options)) {
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
  impl_->idle.clear();
}

void AsyncHttpsClient::Send(const HostPort& server, HttpRequest request,
                            Callback<HttpResponse> done) {
  std::make_shared<Exchange>(*impl_, server, std::move(request), std::move(done))->Start();
}

}  // namespace concierge::http
