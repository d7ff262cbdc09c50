#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/token_buckets.h"
#include "joinproxy/header_sealer.h"
#include "joinproxy/stateless_proxy.h"

namespace concierge::joinproxy {

// StatefulLimits are the draft's defaults (draft-ietf-anima-constrained-join-proxy-20
// §"Stateful Join Proxy"): a flow ends 30 s after its last datagram either way; a pledge's
// address holds at most 2 flows and an interface at most 10. A site that powers up many
// pledges behind one proxy at once raises per_interface, or uses stateless mode.
struct StatefulLimits {
  std::chrono::seconds idle{30};
  size_t per_address = 2;
  size_t per_interface = 10;
};

// StatefulProxy is the join proxy's logic in stateful mode, without sockets: each pledge
// (address, port, interface) gets a flow, which the caller gives its own socket towards the
// registrar's CoAPS port, so the registrar sees each pledge as a distinct source at the
// proxy's address. It is for registrars that do not take JPY (they offer rt=brski and not
// rt=brski.rjp) and for comparison; it keeps state per pledge, bounded by the limits above.
// Pledge datagrams are rate-limited per source and in all, as in stateless mode.
class StatefulProxy {
 public:
  using FlowId = uint64_t;

  explicit StatefulProxy(const Clock& clock, StatefulLimits limits = {}, ProxyLimits rates = {});

  struct Forward {
    FlowId flow;
    bool opened;  // a new flow: the caller opens its socket (and calls Close if it cannot)
  };

  // FromPledge says which flow a pledge's datagram goes out on, or nothing when it is dropped
  // (counted: oversize, over its rate, or no room for a new flow).
  std::optional<Forward> FromPledge(const PledgeAddress& from, size_t datagram_size);
  // FromRegistrar says where an answer on a flow goes, and keeps the flow alive.
  std::optional<PledgeAddress> FromRegistrar(FlowId flow);
  // Expire ends the flows idle for longer than the limit and returns them, so their sockets
  // can be closed.
  std::vector<FlowId> Expire();
  void Close(FlowId flow);

  size_t flows() const { return flows_.size(); }

  const ProxyCounters& counters() const { return counters_; }

 private:
  struct Flow {
    PledgeAddress pledge;
    SystemTime last;
  };

  void Forget(std::unordered_map<FlowId, Flow>::iterator flow);

  const Clock& clock_;
  StatefulLimits limits_;
  PledgeGate gate_;
  FlowId next_ = 1;
  std::unordered_map<FlowId, Flow> flows_;
  std::map<std::string, FlowId> by_pledge_;  // SourceKey + port
  std::unordered_map<std::string, size_t> per_address_;
  std::unordered_map<uint32_t, size_t> per_interface_;
  ProxyCounters counters_;
};

}  // namespace concierge::joinproxy
