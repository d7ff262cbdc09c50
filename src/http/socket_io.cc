#include "http/socket_io.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <memory>
#include <mutex>

namespace concierge::http {

namespace {

struct AddressListDeleter {
  void operator()(addrinfo* list) const { freeaddrinfo(list); }
};

using AddressList = std::unique_ptr<addrinfo, AddressListDeleter>;

Result<AddressList> Resolve(const HostPort& address, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* result = nullptr;
  std::string port = std::to_string(address.port);
  int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &result);
  if (rc != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot resolve " + address.host + ": " + gai_strerror(rc));
  }
  return AddressList(result);
}

}  // namespace

void IgnoreSigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { (void)std::signal(SIGPIPE, SIG_IGN); });
}

Result<Fd> ListenTcp(const HostPort& address, int backlog) {
  IgnoreSigpipe();
  ASSIGN_OR_RETURN(AddressList list, Resolve(address, true));
  std::string why = "no address";
  for (addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd.valid()) {
      why = ErrnoText(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd.get(), backlog) == 0) {
      return fd;
    }
    why = ErrnoText(errno);
  }
  return MakeError(ErrorCode::kUnavailable, "cannot listen on " + address.host + ":" +
                                                std::to_string(address.port) + ": " + why);
}

uint16_t LocalPort(int fd) {
  sockaddr_storage storage{};
  socklen_t size = sizeof(storage);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &size);
  if (storage.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
}

void SetIoTimeout(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

Result<Fd> ConnectTcp(const HostPort& address, std::chrono::milliseconds timeout) {
  IgnoreSigpipe();
  ASSIGN_OR_RETURN(AddressList list, Resolve(address, false));
  std::string why = "no address";
  for (addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd.valid()) {
      why = ErrnoText(errno);
      continue;
    }
    SetIoTimeout(fd.get(), timeout);  // bounds connect() too on Linux
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
      return fd;
    }
    why = ErrnoText(errno);
  }
  return MakeError(ErrorCode::kUnavailable, "cannot connect to " + address.host + ":" +
                                                std::to_string(address.port) + ": " + why);
}

}  // namespace concierge::http
