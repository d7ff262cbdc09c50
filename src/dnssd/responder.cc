#include "dnssd/responder.h"

#include <poll.h>

#include <mutex>
#include <set>

#include "common/clock.h"
#include "common/fd.h"
#include "common/socket_thread.h"
#include "common/token_buckets.h"
#include "dnssd/mdns_socket.h"

namespace concierge::dnssd {

class Responder::Impl {
 public:
  explicit Impl(std::vector<Service> services)
      : services_(std::move(services)), askers_({16, std::chrono::milliseconds(250)}, 1024) {}

  Status Open(const std::vector<std::string>& interfaces) {
    if (interfaces.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "mDNS: no interface to answer on");
    }
    if (!thread_.valid()) {
      return MakeError(ErrorCode::kInternal, "mDNS: no eventfd");
    }
    ASSIGN_OR_RETURN(socket_, OpenMdnsSocket(kMdnsPort));
    std::vector<std::string> addresses;
    for (const std::string& interface : interfaces) {
      ASSIGN_OR_RETURN(unsigned index, InterfaceIndex(interface));
      RETURN_IF_ERROR(JoinMdnsGroup(socket_.get(), interface));
      interfaces_.insert(index);
      for (const std::string& address : InterfaceAddresses(interface)) {
        addresses.push_back(address);
      }
    }
    for (Service& service : services_) {
      if (service.addresses.empty()) {
        service.addresses = addresses;
      }
      if (service.host.empty()) {
        service.host = service.instance;
      }
    }
    thread_.Start([this] { Loop(); });
    return OkStatus();
  }

  ResponderCounters counters() {
    std::lock_guard lock(mutex_);
    return counters_;
  }

 private:
  void Loop() {
    while (!thread_.stopping()) {
      pollfd fds[2] = {{socket_.get(), POLLIN, 0}, {thread_.wake_fd(), POLLIN, 0}};
      if (poll(fds, 2, 1000) <= 0 || (fds[0].revents & POLLIN) == 0) {
        continue;
      }
      for (int i = 0; i < 32; ++i) {
        auto datagram = ReceiveDatagram(socket_.get());
        if (!datagram) {
          break;
        }
        Answer(*datagram);
      }
    }
  }

  void Answer(const Datagram& query) {
    std::lock_guard lock(mutex_);
    bool on_link = query.hop_limit == 255 && interfaces_.contains(query.interface);
    if (!on_link || !askers_.At(AddressText(query.from)).Take(clock_.Now())) {
      ++counters_.ignored;
      return;
    }
    bool legacy = ntohs(query.from.sin6_port) != kMdnsPort;
    auto answer = AnswerQuery(query.bytes, services_, legacy);
    if (!answer) {
      return;
    }
    // A one-shot querier gets its answer at its own port; a full responder's goes to the group.
    SendTo(socket_.get(), *answer, legacy ? query.from : MdnsGroup(query.interface));
    ++counters_.answered;
  }

  std::vector<Service> services_;
  std::set<unsigned> interfaces_;
  SystemClock clock_;
  std::mutex mutex_;  // counters_ and askers_
  SourceBuckets askers_;
  ResponderCounters counters_;
  Fd socket_;
  SocketThread thread_;  // last: it ends before the rest goes
};

Responder::Responder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Responder::~Responder() = default;

Result<std::unique_ptr<Responder>> Responder::Start(std::vector<Service> services,
                                                    const std::vector<std::string>& interfaces) {
  auto impl = std::make_unique<Impl>(std::move(services));
  RETURN_IF_ERROR(impl->Open(interfaces));
  return std::unique_ptr<Responder>(new Responder(std::move(impl)));
}

ResponderCounters Responder::counters() const {
  return impl_->counters();
}

}  // namespace concierge::dnssd
