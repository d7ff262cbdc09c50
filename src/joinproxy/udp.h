#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "common/ip_network.h"
#include "common/url.h"
#include "joinproxy/header_sealer.h"

namespace concierge::joinproxy {

// SocketAddress is an IPv4 or IPv6 socket address as the kernel takes it.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }

  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }

  int family() const { return storage.ss_family; }
};

// ToSocketAddress reads an IP literal and a port ("[fe80::1%eth0]" takes its zone).
Result<SocketAddress> ToSocketAddress(const HostPort& address);
// Text is "192.0.2.1:5684" or "[2001:db8::1]:5684".
std::string Text(const SocketAddress& address);

// BindUdp opens a non-blocking UDP socket bound to address; an IPv6 wildcard also takes IPv4.
Result<Fd> BindUdp(const HostPort& address);
// ConnectUdp opens a non-blocking UDP socket that sends to, and hears only from, address,
// from local_port when it is not 0.
Result<Fd> ConnectUdp(const SocketAddress& address, uint16_t local_port = 0);
uint16_t BoundPort(int fd);
// JoinGroups joins each multicast group on each interface ("" or none: where the kernel
// chooses), for a socket bound to the groups' family (an IPv6 socket takes IPv4 groups too).
Status JoinGroups(int fd, const std::vector<std::string>& groups,
                  const std::vector<std::string>& interfaces);

// PledgeOf is the address a pledge's datagram came from; AddressOf is where to send it back
// from a socket of the given family (IPv4 pledges go IPv4-mapped through an IPv6 socket).
PledgeAddress PledgeOf(const SocketAddress& from);
// HostOf is the address a datagram came from as a host network (IPv4-mapped ones as IPv4).
IpNetwork HostOf(const SocketAddress& from);
SocketAddress AddressOf(const PledgeAddress& pledge, int socket_family);

}  // namespace concierge::joinproxy
