#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/token_buckets.h"
#include "common/url.h"
#include "crypto/identity.h"

namespace concierge::coap {

// Request is one CoAP request as a resource sees it: the whole body (libcoap reassembles
// Block1), the path with any Uri-Path-Abbrev expanded, and the DTLS peer.
struct Request {
  std::string method;  // "GET", "POST", "PUT", "DELETE"
  std::string path;    // "/.well-known/brski/rv"
  std::string query;   // without the '?', options joined with '&'
  std::optional<uint16_t> content_format;
  std::optional<uint16_t> accept;
  Bytes payload;
  crypto::PeerIdentity peer;
};

struct Response {
  int code = 205;  // class * 100 + detail
  std::optional<uint16_t> content_format = std::nullopt;
  Bytes payload = {};
  std::optional<uint32_t> max_age =
      std::nullopt;  // seconds; with 5.03, when to ask again (RFC 9148 §5.7)
};

// Responder delivers a resource's answer exactly once, at once or later and from any thread.
using Responder = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Responder)>;

struct Resource {
  std::string path;             // "/.well-known/est/crts"
  std::string method;           // one method per entry
  Handler handler;              // none: listed in /.well-known/core only (a base such as rt=brski)
  std::string link_attributes;  // for /.well-known/core, e.g. "rt=brski.rv;ct=836"
  std::optional<uint32_t> abbreviation;  // its Uri-Path-Abbrev value, if it has one
};

// DiscoveryOptions open a plain CoAP endpoint (no DTLS: whoever asks is a stranger) that
// answers `GET /.well-known/core` only, with what links() gives, filtered by the query;
// every other resource answers 4.01 there (it needs DTLS). Amplification is bounded as
// amplification.h says: Echo (RFC 9175) challenges before any answer larger than three times
// its request, multicast answers no larger than their request, none for a multicast query that
// matches nothing (RFC 6690 §4.1), and a token bucket per source address and for all.
struct DiscoveryOptions {
  HostPort listen;                      // UDP; 5683 is CoAP's port
  std::vector<std::string> groups;      // multicast groups joined, e.g. "ff02::fd", "224.0.1.187"
  std::vector<std::string> interfaces;  // where to join them; none: where the kernel chooses
  // links: the links to show a stranger. local_host is the address the request reached in URI
  // form ("[2001:db8::1]", "192.0.2.1"; for a multicast request, the interface's), when known.
  std::function<std::vector<Resource>(const std::optional<std::string>& local_host,
                                      uint16_t coaps_port)>
      links;
  BucketLimits per_source{32, std::chrono::milliseconds(100)};
  BucketLimits all_sources{400, std::chrono::microseconds(2500)};
  size_t max_sources = 4096;
  std::chrono::seconds echo_lifetime{300};
};

struct ServerOptions {
  HostPort listen;  // port 0 picks one
  crypto::Credential identity;
  // Bodies larger than this are refused with 4.13, whichever way they arrive.
  size_t max_body = size_t{16} * 1024;
  // Idle DTLS sessions kept at once (about 58 KB each, docs/constrained.md): beyond, libcoap
  // closes the longest idle. A session idle for session_timeout is closed too; a pledge needs
  // seconds.
  size_t max_sessions = 1024;
  std::chrono::seconds session_timeout{60};
  // DTLS handshakes under way at once: libcoap keeps a session for each ClientHello, cookie
  // exchange included, and drops new ones beyond this. A building's worth of devices powering
  // up together, or a join proxy's pledges, all handshake at once.
  size_t max_handshakes = 1024;
  std::optional<DiscoveryOptions> discovery = std::nullopt;
};

// CoapsServer serves resources over CoAP on DTLS 1.2 (RFC 7252, RFC 7959 block-wise by
// libcoap) on its own thread. Every peer must present a certificate; which certificates mean
// anything is the resources' decision (the registrar's service). Resources are also reachable
// by their Uri-Path-Abbrev value; an unknown value gets 4.02 Bad Option.
// `/.well-known/core` lists them in CoRE link format, filtered by `rt=`/`ct=`-style queries.
class CoapsServer {
 public:
  static Result<std::unique_ptr<CoapsServer>> Start(ServerOptions options,
                                                    std::vector<Resource> resources);
  ~CoapsServer();
  CoapsServer(const CoapsServer&) = delete;
  CoapsServer& operator=(const CoapsServer&) = delete;

  uint16_t port() const;
  // discovery_port is the plain CoAP endpoint's port, when there is one.
  std::optional<uint16_t> discovery_port() const;

  class Impl;

 private:
  explicit CoapsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// LinkFormat renders resources as CoRE link format (RFC 6690), keeping those whose attributes
// match every "name=value" of query (a value ending in '*' is a prefix).
std::string LinkFormat(const std::vector<Resource>& resources, std::string_view query);

}  // namespace concierge::coap
