#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/token_buckets.h"
#include "joinproxy/header_sealer.h"

namespace concierge::joinproxy {

struct ProxyLimits {
  // One enrollment is about 15 datagrams from the pledge (docs/constrained.md), two handshakes
  // among them. A source address gets 200 at once and 100 a second after: pledges behind one
  // address (a host running several, a NAT) are not held up, and one flooding source reaches
  // the registrar, whose DTLS cookie answers it without state, at a bounded rate.
  BucketLimits per_pledge{200, std::chrono::milliseconds(10)};
  // All pledges together, so a flood from many forged addresses is bounded too.
  BucketLimits all_pledges{2000, std::chrono::microseconds(250)};
  size_t max_sources = 4096;  // addresses whose buckets are remembered
};

struct ProxyCounters {
  uint64_t to_registrar = 0;
  uint64_t to_pledges = 0;
  uint64_t rate_limited = 0;  // pledge datagrams over their source's or the total rate
  uint64_t oversize = 0;      // pledge datagrams over kMaxJpyContent
  uint64_t malformed = 0;     // registrar datagrams that are not JPY
  uint64_t unauthentic = 0;   // registrar datagrams whose header this proxy did not seal (or
                              // sealed under a retired key, or truncated); in stateful
                              // mode, answers on a flow that has ended
  // Stateful mode only (stateful_proxy.h).
  uint64_t flows_opened = 0;
  uint64_t flows_expired = 0;
  uint64_t table_full = 0;  // pledge datagrams refused a new flow by the limits
};

// PledgeGate is what both modes check of a pledge's datagram first: its size, its source's
// rate and the rate of all pledges together. What it refuses, it counts.
class PledgeGate {
 public:
  explicit PledgeGate(const ProxyLimits& limits);

  bool Admit(const PledgeAddress& from, size_t size, SystemTime now, ProxyCounters& counters);

 private:
  SourceBuckets per_pledge_;
  TokenBucket all_pledges_;
};

// StatelessProxy is the join proxy's logic in stateless mode, without sockets: a pledge's
// datagram becomes a JPY message to the registrar whose sealed header says where the answer
// goes; a JPY answer becomes a datagram to that pledge, or is dropped and counted. It holds no
// state per pledge beyond a rate bucket per source address, bounded in number. The registrar
// is the only destination: the pledge chooses nothing but the bytes it sends.
class StatelessProxy {
 public:
  StatelessProxy(const Clock& clock, Random& random, ProxyLimits limits = {},
                 SealerTimes times = {});

  std::optional<Bytes> FromPledge(const PledgeAddress& from, ByteSpan datagram);

  struct ToPledge {
    PledgeAddress to;
    Bytes datagram;
  };

  std::optional<ToPledge> FromRegistrar(ByteSpan datagram);

  const ProxyCounters& counters() const { return counters_; }

  HeaderSealer& sealer() { return sealer_; }

 private:
  const Clock& clock_;
  HeaderSealer sealer_;
  PledgeGate gate_;
  ProxyCounters counters_;
};

// SourceKey names a pledge's address for its rate bucket.
std::string SourceKey(const PledgeAddress& pledge);

}  // namespace concierge::joinproxy
