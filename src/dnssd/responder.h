#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "dnssd/mdns_message.h"

namespace concierge::dnssd {

struct ResponderCounters {
  uint64_t answered = 0;
  uint64_t ignored = 0;  // off-link (hop limit under 255), another interface, over the rate
};

// Responder answers multicast DNS queries for its services on the given interfaces, on its
// own thread (IPv6, ff02::fb). A service without addresses gets the interfaces' own; without a
// host, its instance name (not the machine's: answers say what onboarding needs, no more). It
// answers only queries from the link itself (hop limit 255), at most 16 at once and 4 a second from
// one address, and nothing it does not announce.
class Responder {
 public:
  static Result<std::unique_ptr<Responder>> Start(std::vector<Service> services,
                                                  const std::vector<std::string>& interfaces);
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  ResponderCounters counters() const;

  class Impl;

 private:
  explicit Responder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace concierge::dnssd
