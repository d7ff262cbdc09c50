#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/fd.h"
#include "common/url.h"

namespace concierge::http {

using ::concierge::Fd;

// IgnoreSigpipe makes writes to a peer that has gone fail with EPIPE instead of killing the
// process: OpenSSL writes to sockets with write(), which raises SIGPIPE. Called by every
// socket this module opens; it changes the process-wide disposition once.
void IgnoreSigpipe();

Result<Fd> ListenTcp(const HostPort& address, int backlog);
uint16_t LocalPort(int fd);
Result<Fd> ConnectTcp(const HostPort& address, std::chrono::milliseconds timeout);
void SetIoTimeout(int fd, std::chrono::milliseconds timeout);

}  // namespace concierge::http
