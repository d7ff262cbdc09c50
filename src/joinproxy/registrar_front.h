#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "common/error.h"
#include "common/ip_network.h"
#include "common/token_buckets.h"
#include "common/url.h"

namespace concierge::joinproxy {

struct FrontOptions {
  HostPort listen;  // the JPY port join proxies send to (no default port: it is discovered)
  HostPort dtls;    // the registrar's own CoAPS listener
  size_t max_sessions = 1024;
  std::chrono::seconds idle{60};  // a session quiet this long is forgotten
  // New sessions one sender (a proxy, or anyone posing as one) may open: a building's pledges
  // behind one proxy at once, 1,000 a second after, so a stream of made-up headers pushes out
  // real sessions no faster than that (keep the JPY port to the proxies' network).
  BucketLimits new_sessions_per_sender{2000, std::chrono::milliseconds(1)};
  // Where join proxies may send from (serve --jpy-allow); empty: anywhere. The proxies'
  // network, so that no one else can open sessions on the registrar through the JPY port.
  std::vector<IpNetwork> allowed_proxies = {};
};

struct FrontCounters {
  uint64_t from_proxies = 0;
  uint64_t to_proxies = 0;
  uint64_t malformed = 0;    // datagrams that are not JPY, dropped
  uint64_t not_allowed = 0;  // datagrams from outside allowed_proxies, dropped
  uint64_t sessions_opened = 0;
  uint64_t sessions_evicted = 0;  // pushed out by newer ones at max_sessions
  uint64_t sessions_refused = 0;  // over new_sessions_per_sender, dropped
};

// RegistrarFront is the registrar's side of stateless join proxying: it takes JPY messages on
// its own UDP port and gives each (proxy address, header) pair, that is each pledge behind
// each proxy, a UDP socket of its own towards the CoAPS listener, so libcoap's DTLS sessions,
// cookies included, are keyed by that pair without libcoap knowing of JPY
// (docs/joinproxy.md). Answers go back to the proxy wrapped with the header, unchanged. Runs
// on its own thread.
class RegistrarFront {
 public:
  static Result<std::unique_ptr<RegistrarFront>> Start(FrontOptions options);
  ~RegistrarFront();
  RegistrarFront(const RegistrarFront&) = delete;
  RegistrarFront& operator=(const RegistrarFront&) = delete;

  uint16_t port() const;
  FrontCounters counters() const;
  size_t sessions() const;

  class Impl;

 private:
  explicit RegistrarFront(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace concierge::joinproxy
