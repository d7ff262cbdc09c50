#include "dnssd/mdns_socket.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "dnssd/mdns_message.h"

namespace concierge::dnssd {
namespace {

Status Errno(const std::string& what) {
  return MakeError(ErrorCode::kUnavailable, "mDNS: " + what + ": " + ErrnoText(errno));
}

}  // namespace

Result<unsigned> InterfaceIndex(const std::string& interface) {
  unsigned index = if_nametoindex(interface.c_str());
  if (index == 0) {
    return MakeError(ErrorCode::kInvalidArgument, "no interface \"" + interface + "\"");
  }
  return index;
}

Result<Fd> OpenMdnsSocket(uint16_t port) {
  Fd socket(::socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket.valid()) {
    return std::unexpected(Errno("socket").error());
  }
  int on = 1;
  int hops = 255;
  setsockopt(socket.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
  setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  setsockopt(socket.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
  setsockopt(socket.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops));
  setsockopt(socket.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops));
  setsockopt(socket.get(), IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on));
  setsockopt(socket.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
  sockaddr_in6 any{};
  any.sin6_family = AF_INET6;
  any.sin6_addr = in6addr_any;
  any.sin6_port = htons(port);
  if (bind(socket.get(), reinterpret_cast<const sockaddr*>(&any), sizeof(any)) != 0) {
    return std::unexpected(Errno("bind to port " + std::to_string(port)).error());
  }
  return socket;
}

Status JoinMdnsGroup(int fd, const std::string& interface) {
  ASSIGN_OR_RETURN(unsigned index, InterfaceIndex(interface));
  ipv6_mreq request{};
  request.ipv6mr_multiaddr = MdnsGroup(index).sin6_addr;
  request.ipv6mr_interface = index;
  if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &request, sizeof(request)) != 0) {
    return Errno("joining ff02::fb on " + interface);
  }
  return OkStatus();
}

std::optional<Datagram> ReceiveDatagram(int fd) {
  Datagram datagram;
  datagram.bytes.resize(kMaxMdnsMessage);
  iovec io{datagram.bytes.data(), datagram.bytes.size()};
  alignas(cmsghdr) char control[256];
  msghdr message{};
  message.msg_name = &datagram.from;
  message.msg_namelen = sizeof(datagram.from);
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  ssize_t got = recvmsg(fd, &message, 0);
  if (got < 0) {
    return std::nullopt;
  }
  datagram.bytes.resize(static_cast<size_t>(got));
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != IPPROTO_IPV6) {
      continue;
    }
    if (header->cmsg_type == IPV6_HOPLIMIT) {
      std::memcpy(&datagram.hop_limit, CMSG_DATA(header), sizeof(int));
    } else if (header->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info{};
      std::memcpy(&info, CMSG_DATA(header), sizeof(info));
      datagram.interface = info.ipi6_ifindex;
    }
  }
  return datagram;
}

void SendTo(int fd, ByteSpan bytes, const sockaddr_in6& to) {
  (void)sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to),
               sizeof(to));
}

sockaddr_in6 MdnsGroup(unsigned interface) {
  sockaddr_in6 group{};
  group.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "ff02::fb", &group.sin6_addr);
  group.sin6_port = htons(kMdnsPort);
  group.sin6_scope_id = interface;
  return group;
}

std::string AddressText(const sockaddr_in6& address) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &address.sin6_addr, text, sizeof(text));
  std::string out = text;
  char name[IF_NAMESIZE] = {};
  if (IN6_IS_ADDR_LINKLOCAL(&address.sin6_addr) && address.sin6_scope_id != 0 &&
      if_indextoname(address.sin6_scope_id, name) != nullptr) {
    out += std::string("%") + name;
  }
  return out;
}

std::vector<std::string> InterfaceAddresses(const std::string& interface) {
  std::vector<std::string> addresses;
  ifaddrs* raw = nullptr;
  if (getifaddrs(&raw) != 0) {
    return addresses;
  }
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> all(raw, &freeifaddrs);
  for (ifaddrs* entry = all.get(); entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr != nullptr && entry->ifa_addr->sa_family == AF_INET6 &&
        interface == entry->ifa_name) {
      addresses.push_back(AddressText(*reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr)));
    }
  }
  return addresses;
}

}  // namespace concierge::dnssd
