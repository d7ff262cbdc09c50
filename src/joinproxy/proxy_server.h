#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/url.h"
#include "joinproxy/stateful_proxy.h"
#include "joinproxy/stateless_proxy.h"

namespace concierge::joinproxy {

// ProxyMode is how the proxy relays (draft-ietf-anima-constrained-join-proxy-20 §"Join Proxy
// specification"): stateless, as JPY messages to the registrar's JPY port, when the registrar
// offers one (rt=brski.rjp); stateful, as plain DTLS from a socket per pledge to its CoAPS
// port, when it offers only that (rt=brski).
enum class ProxyMode { kStateless, kStateful };

struct ProxyServerOptions {
  HostPort listen;     // the pledge-facing UDP address ("[::]:0" picks a port)
  HostPort registrar;  // the registrar's JPY endpoint (stateless) or CoAPS endpoint (stateful)
  ProxyMode mode = ProxyMode::kStateless;
  // Where the proxy keeps what makes it the same proxy to the registrar across a restart, if
  // anywhere: its header key (joinproxy.key, mode 0600) and the UDP port it sends JPY from
  // (joinproxy.upstream), which the registrar's sessions are keyed by with the header. A proxy
  // restarted with them lets handshakes begun before the restart go on; without, a restart is
  // a key rotation.
  std::filesystem::path state_dir = {};
  // Where pledges discover the proxy over plain CoAP (proxy_discovery.h), if anywhere; with
  // the multicast groups to answer on, each on every interface in discovery_interfaces.
  std::optional<HostPort> discovery = std::nullopt;
  std::vector<std::string> discovery_groups = {};
  std::vector<std::string> discovery_interfaces = {};
  ProxyLimits limits = {};
  SealerTimes times = {};
  StatefulLimits stateful = {};
};

// ProxyServer runs a StatelessProxy or a StatefulProxy on real sockets, on its own thread: one
// socket facing the pledges; towards the registrar, one socket connected to its JPY port, or
// one per flow connected to its CoAPS port (the kernel drops datagrams from anyone else before
// the proxy sees them).
class ProxyServer {
 public:
  static Result<std::unique_ptr<ProxyServer>> Start(ProxyServerOptions options);
  ~ProxyServer();
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  uint16_t port() const;
  std::optional<uint16_t> discovery_port() const;
  ProxyCounters counters() const;
  // RotateKey retires the header key now (operators; tests of rotation).
  void RotateKey();

  class Impl;

 private:
  explicit ProxyServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace concierge::joinproxy
