#include "joinproxy/proxy_server.h"

#include <sys/epoll.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "common/files.h"
#include "common/socket_thread.h"
#include "joinproxy/proxy_discovery.h"
#include "joinproxy/udp.h"

namespace concierge::joinproxy {
namespace {

// What an epoll event is about: one of the fixed sockets, or a flow (kFirstFlow + its id).
enum : uint64_t { kPledges, kRegistrar, kWake, kDiscovery, kFirstFlow = 16 };

}  // namespace

class ProxyServer::Impl {
 public:
  explicit Impl(ProxyServerOptions options)
      : options_(std::move(options)),
        proxy_(clock_, random_, options_.limits, options_.times),
        askers_({64, std::chrono::microseconds(62500)}, 4096),
        epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    if (options_.mode == ProxyMode::kStateful) {
      stateful_.emplace(clock_, options_.stateful, options_.limits);
    }
  }

  Status Open() {
    if (!thread_.valid() || !epoll_.valid()) {
      return MakeError(ErrorCode::kInternal, "join proxy: no eventfd or epoll");
    }
    ASSIGN_OR_RETURN(pledges_, BindUdp(options_.listen));
    ASSIGN_OR_RETURN(registrar_address_, ToSocketAddress(options_.registrar));
    if (stateful_) {
      RETURN_IF_ERROR(OpenDiscovery());
      return StartLoop();
    }
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
    auto upstream = ConnectUdp(registrar_address_, upstream_port);
    if (!upstream && upstream_port != 0) {
      upstream = ConnectUdp(registrar_address_);  // taken meanwhile: a new port, a new proxy
    }
    if (!upstream) {
      return std::unexpected(upstream.error());
    }
    registrar_ = std::move(*upstream);
    RETURN_IF_ERROR(Watch(registrar_.get(), kRegistrar));
    RETURN_IF_ERROR(OpenDiscovery());
    if (!options_.state_dir.empty()) {
      RETURN_IF_ERROR(
          WriteFileAtomic(UpstreamFile(), std::to_string(BoundPort(registrar_.get())) + "\n"));
    }
    return StartLoop();
  }

  Status OpenDiscovery() {
    if (!options_.discovery) {
      return OkStatus();
    }
    ASSIGN_OR_RETURN(discovery_, BindUdp(*options_.discovery));
    RETURN_IF_ERROR(
        JoinGroups(discovery_.get(), options_.discovery_groups, options_.discovery_interfaces));
    return Watch(discovery_.get(), kDiscovery);
  }

  Status StartLoop() {
    RETURN_IF_ERROR(Watch(pledges_.get(), kPledges));
    RETURN_IF_ERROR(Watch(thread_.wake_fd(), kWake));
    pledge_family_ = ToSocketAddress(options_.listen)->family();
    thread_.Start([this] { Loop(); });
    return OkStatus();
  }

  Status Watch(int socket, uint64_t what) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = what;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, socket, &event) != 0) {
      return MakeError(ErrorCode::kInternal, "join proxy: epoll_ctl: " + ErrnoText(errno));
    }
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
    return stateful_ ? stateful_->counters() : proxy_.counters();
  }

  void RotateKey() {
    std::lock_guard lock(mutex_);
    proxy_.sealer().Rotate();
    (void)KeepKey();
  }

 private:
  void Loop() {
    Bytes buffer(65536);
    epoll_event events[64];
    SystemTime expired_at = clock_.Now();
    while (!thread_.stopping()) {
      int ready = epoll_wait(epoll_.get(), events, 64, 1000);
      for (int i = 0; i < ready; ++i) {
        uint64_t what = events[i].data.u64;
        if (what == kDiscovery) {
          AnswerPledgesLooking(buffer);
        } else if (what == kPledges) {
          FromPledges(buffer);
        } else if (what == kRegistrar) {
          FromRegistrar(buffer);
        } else if (what >= kFirstFlow) {
          FromFlow(what - kFirstFlow, buffer);
        }
      }
      if (stateful_ && clock_.Now() - expired_at >= std::chrono::seconds(1)) {
        expired_at = clock_.Now();
        std::lock_guard lock(mutex_);
        for (StatefulProxy::FlowId flow : stateful_->Expire()) {
          flows_.erase(flow);  // closing the socket takes it out of epoll
        }
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
      if (stateful_) {
        ToFlow(PledgeOf(from), ByteSpan(buffer.data(), static_cast<size_t>(got)));
        continue;
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

  // ToFlow sends a pledge's datagram out on its flow's socket, opening one for a new flow.
  void ToFlow(const PledgeAddress& pledge, ByteSpan datagram) {
    std::lock_guard lock(mutex_);
    if (!stateful_) {
      return;
    }
    StatefulProxy& proxy = *stateful_;
    auto forward = proxy.FromPledge(pledge, datagram.size());
    if (!forward) {
      return;
    }
    if (forward->opened) {
      auto socket = ConnectUdp(registrar_address_);
      if (!socket || !Watch(socket->get(), kFirstFlow + forward->flow)) {
        proxy.Close(forward->flow);
        return;
      }
      flows_.emplace(forward->flow, std::move(*socket));
    }
    (void)send(flows_.at(forward->flow).get(), datagram.data(), datagram.size(), 0);
  }

  void FromFlow(StatefulProxy::FlowId flow, Bytes& buffer) {
    for (int i = 0; i < 64; ++i) {
      std::lock_guard lock(mutex_);
      auto socket = flows_.find(flow);
      if (socket == flows_.end() || !stateful_) {
        return;
      }
      ssize_t got = recv(socket->second.get(), buffer.data(), buffer.size(), 0);
      if (got < 0) {
        return;
      }
      auto pledge = stateful_->FromRegistrar(flow);
      if (pledge) {
        SocketAddress to = AddressOf(*pledge, pledge_family_);
        (void)sendto(pledges_.get(), buffer.data(), static_cast<size_t>(got), 0, to.get(),
                     to.length);
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
  std::optional<StatefulProxy> stateful_;                // stateful mode only
  std::unordered_map<StatefulProxy::FlowId, Fd> flows_;  // a socket per flow, stateful mode
  SocketAddress registrar_address_;
  Fd pledges_;
  Fd registrar_;
  Fd discovery_;
  int pledge_family_ = AF_INET6;
  Fd epoll_;
  SocketThread thread_;  // last: it ends before the rest goes
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
