#include "joinproxy/udp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace concierge::joinproxy {

Result<SocketAddress> ToSocketAddress(const HostPort& address) {
  std::string host = address.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  SocketAddress out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    out.length = sizeof(sockaddr_in);
    return out;
  }
  std::string zone;
  if (size_t percent = host.find('%'); percent != std::string::npos) {
    zone = host.substr(percent + 1);
    host.resize(percent);
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    if (!zone.empty()) {
      v6->sin6_scope_id = if_nametoindex(zone.c_str());
      if (v6->sin6_scope_id == 0) {
        return MakeError(ErrorCode::kInvalidArgument, "no interface \"" + zone + "\"");
      }
    }
    out.length = sizeof(sockaddr_in6);
    return out;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "expected an IP address, not \"" + address.host + "\"");
}

std::string Text(const SocketAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.family() == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address.storage);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address.storage);
  inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
  return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
}

namespace {

Result<Fd> UdpSocket(int family) {
  Fd fd(socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return MakeError(ErrorCode::kUnavailable, "UDP socket: " + ErrnoText(errno));
  }
  return fd;
}

}  // namespace

Result<Fd> BindUdp(const HostPort& address) {
  ASSIGN_OR_RETURN(SocketAddress where, ToSocketAddress(address));
  ASSIGN_OR_RETURN(Fd fd, UdpSocket(where.family()));
  if (where.family() == AF_INET6) {
    int only_v6 = 0;
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &only_v6, sizeof(only_v6));
  }
  if (bind(fd.get(), where.get(), where.length) != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot listen on udp " + Text(where) + ": " + ErrnoText(errno));
  }
  return fd;
}

Result<Fd> ConnectUdp(const SocketAddress& address, uint16_t local_port) {
  ASSIGN_OR_RETURN(Fd fd, UdpSocket(address.family()));
  if (local_port != 0) {
    // Bound to the address the route to the peer picks, not the wildcard: a wildcard bind would
    // fail whenever any other local address holds the same port, which is allowed and common.
    ASSIGN_OR_RETURN(Fd probe, UdpSocket(address.family()));
    SocketAddress local;
    local.length = sizeof(local.storage);
    if (connect(probe.get(), address.get(), address.length) != 0 ||
        getsockname(probe.get(), local.get(), &local.length) != 0) {
      return MakeError(ErrorCode::kUnavailable,
                       "cannot reach udp " + Text(address) + ": " + ErrnoText(errno));
    }
    if (local.family() == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&local.storage)->sin_port = htons(local_port);
    } else {
      reinterpret_cast<sockaddr_in6*>(&local.storage)->sin6_port = htons(local_port);
    }
    if (bind(fd.get(), local.get(), local.length) != 0) {
      return MakeError(
          ErrorCode::kUnavailable,
          "cannot send from udp port " + std::to_string(local_port) + ": " + ErrnoText(errno));
    }
  }
  if (connect(fd.get(), address.get(), address.length) != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot reach udp " + Text(address) + ": " + ErrnoText(errno));
  }
  return fd;
}

uint16_t BoundPort(int fd) {
  SocketAddress local;
  local.length = sizeof(local.storage);
  if (getsockname(fd, local.get(), &local.length) != 0) {
    return 0;
  }
  if (local.family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&local.storage)->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&local.storage)->sin6_port);
}

Status JoinGroups(int fd, const std::vector<std::string>& groups,
                  const std::vector<std::string>& interfaces) {
  std::vector<std::string> where = interfaces.empty() ? std::vector<std::string>{""} : interfaces;
  for (const std::string& group : groups) {
    for (const std::string& interface : where) {
      unsigned index = interface.empty() ? 0 : if_nametoindex(interface.c_str());
      if (!interface.empty() && index == 0) {
        return MakeError(ErrorCode::kInvalidArgument, "no interface \"" + interface + "\"");
      }
      int result = -1;
      in6_addr v6{};
      in_addr v4{};
      if (inet_pton(AF_INET6, group.c_str(), &v6) == 1) {
        ipv6_mreq request{v6, index};
        result = setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &request, sizeof(request));
      } else if (inet_pton(AF_INET, group.c_str(), &v4) == 1) {
        ip_mreqn request{};
        request.imr_multiaddr = v4;
        request.imr_ifindex = static_cast<int>(index);
        result = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &request, sizeof(request));
      }
      if (result != 0) {
        return MakeError(ErrorCode::kUnavailable,
                         "cannot join the multicast group " + group +
                             (interface.empty() ? "" : " on " + interface) + ": " +
                             ErrnoText(errno));
      }
    }
  }
  return OkStatus();
}

IpNetwork HostOf(const SocketAddress& from) {
  PledgeAddress source = PledgeOf(from);
  IpNetwork host;
  host.family = source.ipv6 ? IpFamily::kIpv6 : IpFamily::kIpv4;
  host.bytes = source.ip;
  host.prefix = source.ipv6 ? 128 : 32;
  return host;
}

PledgeAddress PledgeOf(const SocketAddress& from) {
  PledgeAddress pledge;
  if (from.family() == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&from.storage);
    pledge.ipv6 = false;
    std::memcpy(pledge.ip.data(), &v4->sin_addr, 4);
    pledge.port = ntohs(v4->sin_port);
    return pledge;
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&from.storage);
  pledge.port = ntohs(v6->sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
    pledge.ipv6 = false;
    std::memcpy(pledge.ip.data(), &v6->sin6_addr.s6_addr[12], 4);
    return pledge;
  }
  std::memcpy(pledge.ip.data(), &v6->sin6_addr, 16);
  pledge.ifindex = IN6_IS_ADDR_LINKLOCAL(&v6->sin6_addr) ? v6->sin6_scope_id : 0;
  return pledge;
}

SocketAddress AddressOf(const PledgeAddress& pledge, int socket_family) {
  SocketAddress out;
  if (!pledge.ipv6 && socket_family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    v4->sin_family = AF_INET;
    std::memcpy(&v4->sin_addr, pledge.ip.data(), 4);
    v4->sin_port = htons(pledge.port);
    out.length = sizeof(sockaddr_in);
    return out;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(pledge.port);
  if (pledge.ipv6) {
    std::memcpy(&v6->sin6_addr, pledge.ip.data(), 16);
    v6->sin6_scope_id = pledge.ifindex;
  } else {
    v6->sin6_addr.s6_addr[10] = 0xff;
    v6->sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&v6->sin6_addr.s6_addr[12], pledge.ip.data(), 4);
  }
  out.length = sizeof(sockaddr_in6);
  return out;
}

}  // namespace concierge::joinproxy
