#pragma once

#include <string>
#include <string_view>

#include "crypto/openssl_ptr.h"
#include "http/http_message.h"
#include "http/socket_io.h"
#include "http/tls.h"

namespace concierge::http {

// TlsStream is one TLS connection over a connected socket, with blocking I/O bounded by the
// socket's timeouts, and the buffering needed to read HTTP messages back to back.
class TlsStream {
 public:
  TlsStream(Fd fd, crypto::OpenSslPtr<SSL> ssl) : fd_(std::move(fd)), ssl_(std::move(ssl)) {}

  Status Handshake(bool server);
  Status WriteAll(std::string_view data);
  // ReadMessage fills parser with the next whole message; kUnavailable if the peer closed
  // cleanly before sending anything.
  Status ReadMessage(MessageParser& parser);
  void Shutdown();

  SSL* ssl() const { return ssl_.get(); }

 private:
  Fd fd_;
  crypto::OpenSslPtr<SSL> ssl_;
  std::string pending_;  // bytes read past the end of the previous message
};

}  // namespace concierge::http
