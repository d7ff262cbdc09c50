#include "http/tls_stream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <openssl/err.h>

namespace concierge::http {
namespace {

Error IoError(SSL* ssl, int rc, std::string_view what) {
  int err = SSL_get_error(ssl, rc);
  if (err == SSL_ERROR_ZERO_RETURN) {
    return Error(ErrorCode::kUnavailable, std::string(what) + ": peer closed the connection");
  }
  // The socket blocks with SO_RCVTIMEO/SO_SNDTIMEO set: when one runs out, OpenSSL reports
  // that it wants to read or write again (or, in some versions, the syscall's EAGAIN).
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ||
      (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))) {
    crypto::ClearOpenSslErrors();
    return Error(ErrorCode::kTimeout, std::string(what) + ": timed out");
  }
  if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    return Error(ErrorCode::kUnavailable, std::string(what) + ": connection reset");
  }
  return crypto::OpenSslError(ErrorCode::kUnavailable, what);
}

}  // namespace

Status TlsStream::Handshake(bool server) {
  SSL_set_fd(ssl_.get(), fd_.get());
  int rc = server ? SSL_accept(ssl_.get()) : SSL_connect(ssl_.get());
  if (rc != 1) {
    Error error = IoError(ssl_.get(), rc, "TLS handshake");
    if (error.code() == ErrorCode::kUnavailable && !server) {
      long verify = SSL_get_verify_result(ssl_.get());
      if (verify != X509_V_OK) {
        return MakeError(ErrorCode::kSecurity, std::string("TLS server certificate not trusted: ") +
                                                   X509_verify_cert_error_string(verify));
      }
    }
    return std::unexpected(error);
  }
  return OkStatus();
}

Status TlsStream::WriteAll(std::string_view data) {
  size_t written = 0;
  while (written < data.size()) {
    size_t n = 0;
    int rc = SSL_write_ex(ssl_.get(), data.data() + written, data.size() - written, &n);
    if (rc != 1) {
      return std::unexpected(IoError(ssl_.get(), rc, "TLS write"));
    }
    written += n;
  }
  return OkStatus();
}

Status TlsStream::ReadMessage(MessageParser& parser) {
  parser.Reset();
  bool read_any = !pending_.empty();
  while (true) {
    if (!pending_.empty()) {
      ASSIGN_OR_RETURN(size_t used, parser.Feed(pending_.data(), pending_.size()));
      pending_.erase(0, used);
      if (parser.Complete()) {
        return OkStatus();
      }
    }
    char buffer[16384];
    size_t n = 0;
    int rc = SSL_read_ex(ssl_.get(), buffer, sizeof(buffer), &n);
    if (rc != 1) {
      Error error = IoError(ssl_.get(), rc, "TLS read");
      if (error.code() == ErrorCode::kUnavailable && read_any) {
        RETURN_IF_ERROR(parser.FinishOnEof());
        return OkStatus();
      }
      return std::unexpected(error);
    }
    read_any = true;
    pending_.append(buffer, n);
  }
}

void TlsStream::Shutdown() {
  SSL_shutdown(ssl_.get());
  crypto::ClearOpenSslErrors();
}

}  // namespace concierge::http
