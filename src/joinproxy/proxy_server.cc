#include "joinproxy/proxy_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "common/files.h"
#include "joinproxy/proxy_discovery.h"
#include "joinproxy/udp.h"

namespace concierge::joinproxy {

class ProxyServer::Impl {
 public:
  explicit Impl(ProxyServerOptions options)
      : options_(std::move(options)),
        proxy_(clock_, random_, options_.limits, options_.times),
        askers_({64, std::chrono::microseconds(62500)}, 4096),
        wake_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

  ~Impl() {
    stop_ = true;
    uint64_t one = 1;
    (void)!write(wake_.get(), &one, sizeof(one));
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  Status Open() {
    uint16_t upstream_port = 0;
    if (!options_.state_dir.empty()) {
      if (std::filesystem::exists(KeyFile())) {
        ASSIGN_OR_RETURN(std::string kept, ReadFile(KeyFile(), 1024));
        RETURN_IF_ERROR(proxy_.sealer().ImportKey(ToBytes(kept)));
      }
      RETURN_IF_ERROR(KeepKey());
      if (auto kept = ReadFile(UpstreamFile(), 16)) {
        upstream_port = static_cast<uint16_t>(std::atoi(kept->c_str()));
      }
    }
    ASSIGN_OR_RETURN(pledges_, BindUdp(options_.listen));
    ASSIGN_OR_RETURN(SocketAddress registrar, ToSocketAddress(options_.registrar));
    auto upstream = ConnectUdp(registrar, upstream_port);
    if (!upstream && upstream_port != 0) {
      upstream = ConnectUdp(registrar);  // taken meanwhile: a new port, as a new proxy
    }
    if (!upstream) {
      return std::unexpected(upstream.error());
    }
    registrar_ = std::move(*upstream);
    if (options_.discovery) {
      ASSIGN_OR_RETURN(discovery_, BindUdp(*options_.discovery));
      RETURN_IF_ERROR(
          JoinGroups(discovery_.get(), options_.discovery_groups, options_.discovery_interfaces));
    }
    if (!options_.state_dir.empty()) {
      RETURN_IF_ERROR(
          WriteFileAtomic(UpstreamFile(), std::to_string(BoundPort(registrar_.get())) + "\n"));
    }
    pledge_family_ = ToSocketAddress(options_.listen)->family();
    thread_ = std::thread([this] { Loop(); });
    return OkStatus();
  }

  uint16_t port() const { return BoundPort(pledges_.get()); }

  std::optional<uint16_t> discovery_port() const {
    if (!discovery_.valid()) {
      return std::nullopt;
    }
    return BoundPort(discovery_.get());
  }

  ProxyCounters counters() {
    std::lock_guard lock(mutex_);
    return proxy_.counters();
  }

  void RotateKey() {
    std::lock_guard lock(mutex_);
    proxy_.sealer().Rotate();
    (void)KeepKey();
  }

 private:
  void Loop() {
    Bytes buffer(65536);
    while (!stop_) {
      pollfd fds[4] = {{pledges_.get(), POLLIN, 0},
                       {registrar_.get(), POLLIN, 0},
                       {wake_.get(), POLLIN, 0},
                       {discovery_.valid() ? discovery_.get() : -1, POLLIN, 0}};
      if (poll(fds, 4, 1000) <= 0) {
        continue;
      }
      if ((fds[3].revents & POLLIN) != 0) {
        AnswerPledgesLooking(buffer);
      }
      if ((fds[0].revents & POLLIN) != 0) {
        FromPledges(buffer);
      }
      if ((fds[1].revents & POLLIN) != 0) {
        FromRegistrar(buffer);
      }
    }
  }

  // Each drains what is queued, a bounded number at a time so neither side starves the other.
  void FromPledges(Bytes& buffer) {
    for (int i = 0; i < 64; ++i) {
      SocketAddress from;
      from.length = sizeof(from.storage);
      ssize_t got =
          recvfrom(pledges_.get(), buffer.data(), buffer.size(), 0, from.get(), &from.length);
      if (got < 0) {
        return;
      }
      std::optional<Bytes> message;
      {
        std::lock_guard lock(mutex_);
        message =
            proxy_.FromPledge(PledgeOf(from), ByteSpan(buffer.data(), static_cast<size_t>(got)));
      }
      if (message) {
        (void)send(registrar_.get(), message->data(), message->size(), 0);
      }
      if (proxy_.sealer().epoch() != kept_epoch_) {  // Seal rotated the key
        std::lock_guard lock(mutex_);
        (void)KeepKey();
      }
    }
  }

  // AnswerPledgesLooking answers discovery requests: 64 at once from one address (pledges
  // powered up together behind it), then 16 a second.
  void AnswerPledgesLooking(Bytes& buffer) {
    for (int i = 0; i < 16; ++i) {
      SocketAddress from;
      from.length = sizeof(from.storage);
      ssize_t got =
          recvfrom(discovery_.get(), buffer.data(), buffer.size(), 0, from.get(), &from.length);
      if (got < 0) {
        return;
      }
      std::string asker = Text(from).substr(0, Text(from).rfind(':'));
      if (!askers_.At(asker).Take(clock_.Now())) {
        continue;
      }
      auto answer = AnswerDiscovery(ByteSpan(buffer.data(), static_cast<size_t>(got)), port());
      if (answer) {
        (void)sendto(discovery_.get(), answer->data(), answer->size(), 0, from.get(), from.length);
      }
    }
  }

  void FromRegistrar(Bytes& buffer) {
    for (int i = 0; i < 64; ++i) {
      ssize_t got = recv(registrar_.get(), buffer.data(), buffer.size(), 0);
      if (got < 0) {
        return;
      }
      std::optional<StatelessProxy::ToPledge> answer;
      {
        std::lock_guard lock(mutex_);
        answer = proxy_.FromRegistrar(ByteSpan(buffer.data(), static_cast<size_t>(got)));
      }
      if (answer) {
        SocketAddress to = AddressOf(answer->to, pledge_family_);
        (void)sendto(pledges_.get(), answer->datagram.data(), answer->datagram.size(), 0, to.get(),
                     to.length);
      }
    }
  }

  std::filesystem::path KeyFile() const { return options_.state_dir / "joinproxy.key"; }

  std::filesystem::path UpstreamFile() const { return options_.state_dir / "joinproxy.upstream"; }

  // KeepKey writes the current key to the key file, if there is one.
  Status KeepKey() {
    kept_epoch_ = proxy_.sealer().epoch();
    if (options_.state_dir.empty()) {
      return OkStatus();
    }
    Bytes key = proxy_.sealer().ExportKey();
    return WriteFileAtomic(KeyFile(), ToString(key), 0600);
  }

  ProxyServerOptions options_;
  uint8_t kept_epoch_ = 0;
  SystemClock clock_;
  CryptoRandom random_;
  std::mutex mutex_;  // the proxy's state: the loop, counters() and RotateKey()
  StatelessProxy proxy_;
  SourceBuckets askers_;  // discovery requests per source address; the loop thread only
  Fd pledges_;
  Fd registrar_;
  Fd discovery_;
  int pledge_family_ = AF_INET6;
  Fd wake_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

ProxyServer::ProxyServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ProxyServer::~ProxyServer() = default;

Result<std::unique_ptr<ProxyServer>> ProxyServer::Start(ProxyServerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<ProxyServer>(new ProxyServer(std::move(impl)));
}

uint16_t ProxyServer::port() const {
  return impl_->port();
}

std::optional<uint16_t> ProxyServer::discovery_port() const {
  return impl_->discovery_port();
}

ProxyCounters ProxyServer::counters() const {
  return impl_->counters();
}

void ProxyServer::RotateKey() {
  impl_->RotateKey();
}

}  // namespace concierge::joinproxy
