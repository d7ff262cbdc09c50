#include "joinproxy/registrar_front.h"

#include <sys/epoll.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "common/socket_thread.h"
#include "joinproxy/jpy.h"
#include "joinproxy/udp.h"

namespace concierge::joinproxy {

class RegistrarFront::Impl {
 public:
  explicit Impl(FrontOptions options)
      : options_(std::move(options)),
        senders_(options_.new_sessions_per_sender, 4096),
        epoll_(epoll_create1(EPOLL_CLOEXEC)) {}

  Status Open() {
    if (!epoll_.valid() || !thread_.valid()) {
      return MakeError(ErrorCode::kInternal, "epoll or eventfd: " + ErrnoText(errno));
    }
    ASSIGN_OR_RETURN(jpy_, BindUdp(options_.listen));
    ASSIGN_OR_RETURN(dtls_, ToSocketAddress(options_.dtls));
    Watch(jpy_.get());
    Watch(thread_.wake_fd());
    thread_.Start([this] { Loop(); });
    return OkStatus();
  }

  uint16_t port() const { return BoundPort(jpy_.get()); }

  FrontCounters counters() {
    std::lock_guard lock(mutex_);
    return counters_;
  }

  size_t sessions() {
    std::lock_guard lock(mutex_);
    return sessions_.size();
  }

 private:
  struct Session {
    Fd toward_dtls;
    SocketAddress proxy;
    Bytes header;
    std::chrono::steady_clock::time_point used;
  };

  void Watch(int fd) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event);
  }

  void Loop() {
    Bytes buffer(65536);
    epoll_event events[64];
    while (!thread_.stopping()) {
      int ready = epoll_wait(epoll_.get(), events, 64, 1000);
      std::lock_guard lock(mutex_);
      for (int i = 0; i < ready; ++i) {
        int fd = events[i].data.fd;
        if (fd == jpy_.get()) {
          FromProxies(buffer);
        } else if (fd != thread_.wake_fd()) {
          FromDtls(fd, buffer);
        }
      }
      Expire();
    }
  }

  void FromProxies(Bytes& buffer) {
    for (int i = 0; i < 64; ++i) {
      SocketAddress from;
      from.length = sizeof(from.storage);
      ssize_t got = recvfrom(jpy_.get(), buffer.data(), buffer.size(), 0, from.get(), &from.length);
      if (got < 0) {
        return;
      }
      if (!Allowed(from)) {
        ++counters_.not_allowed;
        continue;
      }
      auto message = DecodeJpy(ByteSpan(buffer.data(), static_cast<size_t>(got)));
      if (!message) {
        ++counters_.malformed;
        continue;
      }
      ++counters_.from_proxies;
      Session* session = Find(from, message->header);
      if (session == nullptr) {
        continue;
      }
      session->used = std::chrono::steady_clock::now();
      (void)send(session->toward_dtls.get(), message->content.data(), message->content.size(), 0);
    }
  }

  bool Allowed(const SocketAddress& proxy) const {
    if (options_.allowed_proxies.empty()) {
      return true;
    }
    IpNetwork source = HostOf(proxy);
    return std::any_of(options_.allowed_proxies.begin(), options_.allowed_proxies.end(),
                       [&](const IpNetwork& allowed) { return allowed.Contains(source); });
  }

  // Find is the pair's session, opened if new (pushing out the one quiet longest when full).
  Session* Find(const SocketAddress& proxy, const Bytes& header) {
    std::string key = Text(proxy) + '\0' + std::string(header.begin(), header.end());
    auto found = by_key_.find(key);
    if (found != by_key_.end()) {
      return &sessions_.at(found->second);
    }
    if (!senders_.At(Text(proxy).substr(0, Text(proxy).rfind(':'))).Take(clock_.Now())) {
      ++counters_.sessions_refused;
      return nullptr;
    }
    if (sessions_.size() >= options_.max_sessions) {
      auto oldest = sessions_.begin();
      for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
        if (it->second.used < oldest->second.used) {
          oldest = it;
        }
      }
      Close(oldest);
      ++counters_.sessions_evicted;
    }
    auto opened = ConnectUdp(dtls_);
    if (!opened) {
      return nullptr;
    }
    int fd = opened->get();
    Session& session = sessions_[fd];
    session = {std::move(*opened), proxy, header, std::chrono::steady_clock::now()};
    by_key_[key] = fd;
    keys_[fd] = key;
    Watch(fd);
    ++counters_.sessions_opened;
    return &session;
  }

  void FromDtls(int fd, Bytes& buffer) {
    auto found = sessions_.find(fd);
    if (found == sessions_.end()) {
      return;
    }
    Session& session = found->second;
    for (int i = 0; i < 64; ++i) {
      ssize_t got = recv(fd, buffer.data(), buffer.size(), 0);
      if (got < 0) {
        return;
      }
      Bytes message = EncodeJpy(session.header, ByteSpan(buffer.data(), static_cast<size_t>(got)));
      (void)sendto(jpy_.get(), message.data(), message.size(), 0, session.proxy.get(),
                   session.proxy.length);
      ++counters_.to_proxies;
      session.used = std::chrono::steady_clock::now();
    }
  }

  void Expire() {
    auto now = std::chrono::steady_clock::now();
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto next = std::next(it);
      if (now - it->second.used > options_.idle) {
        Close(it);
      }
      it = next;
    }
  }

  void Close(std::map<int, Session>::iterator it) {
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->first, nullptr);
    by_key_.erase(keys_[it->first]);
    keys_.erase(it->first);
    sessions_.erase(it);
  }

  FrontOptions options_;
  SystemClock clock_;
  SourceBuckets senders_;  // new sessions per sender address
  Fd epoll_;
  Fd jpy_;
  SocketAddress dtls_;
  std::mutex mutex_;                   // everything below: the loop, counters() and sessions()
  std::map<int, Session> sessions_;    // by their socket
  std::map<std::string, int> by_key_;  // (proxy, header) -> socket
  std::map<int, std::string> keys_;    // socket -> (proxy, header)
  FrontCounters counters_;
  SocketThread thread_;  // last: it ends before the rest goes
};

RegistrarFront::RegistrarFront(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RegistrarFront::~RegistrarFront() = default;

Result<std::unique_ptr<RegistrarFront>> RegistrarFront::Start(FrontOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<RegistrarFront>(new RegistrarFront(std::move(impl)));
}

uint16_t RegistrarFront::port() const {
  return impl_->port();
}

FrontCounters RegistrarFront::counters() const {
  return impl_->counters();
}

size_t RegistrarFront::sessions() const {
  return impl_->sessions();
}

}  // namespace concierge::joinproxy
