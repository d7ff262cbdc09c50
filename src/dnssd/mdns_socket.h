#pragma once

#include <netinet/in.h>

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/error.h"
#include "common/fd.h"

namespace concierge::dnssd {

inline constexpr uint16_t kMdnsPort = 5353;

// OpenMdnsSocket opens a non-blocking IPv6 UDP socket for multicast DNS, bound to port (5353
// for a responder, shared with any other responder on the host; 0 for a browser's one-shot
// queries). It sends with a hop limit of 255 and learns each datagram's hop limit and
// interface, so that what did not come from the link itself can be ignored (RFC 6762 §11).
Result<Fd> OpenMdnsSocket(uint16_t port);
// JoinMdnsGroup joins ff02::fb on the interface.
Status JoinMdnsGroup(int fd, const std::string& interface);

struct Datagram {
  Bytes bytes;
  sockaddr_in6 from{};
  int hop_limit = -1;
  unsigned interface = 0;
};

// ReceiveDatagram reads one datagram, if one is waiting (at most kMaxMdnsMessage bytes kept).
std::optional<Datagram> ReceiveDatagram(int fd);
void SendTo(int fd, ByteSpan bytes, const sockaddr_in6& to);

// MdnsGroup is ff02::fb port 5353 on the interface.
sockaddr_in6 MdnsGroup(unsigned interface);
// AddressText is "fe80::1%eth0" for a link-local address, "2001:db8::1" otherwise.
std::string AddressText(const sockaddr_in6& address);
// InterfaceAddresses are the interface's IPv6 addresses, as AddressText writes them.
std::vector<std::string> InterfaceAddresses(const std::string& interface);
// InterfaceIndex is the interface's index, or an error naming it.
Result<unsigned> InterfaceIndex(const std::string& interface);

}  // namespace concierge::dnssd
