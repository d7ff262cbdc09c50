#include "dnssd/browser.h"

#include <poll.h>

#include <algorithm>

#include "dnssd/mdns_message.h"
#include "dnssd/mdns_socket.h"

namespace concierge::dnssd {
namespace {

// ReadAnswers adds the offers in the answers waiting on the socket to found, once each.
void ReadAnswers(int socket, const std::string& type, std::vector<Found>& found) {
  for (int i = 0; i < 64; ++i) {
    auto datagram = ReceiveDatagram(socket);
    if (!datagram) {
      return;
    }
    auto offers = ParseAnswer(datagram->bytes, type);
    if (!offers) {
      continue;
    }
    std::string from = AddressText(datagram->from);
    for (const Offer& offer : *offers) {
      bool known = std::any_of(found.begin(), found.end(), [&](const Found& other) {
        return other.address == from && other.port == offer.port;
      });
      if (!known) {
        found.push_back({from, offer.port, offer.instance});
      }
    }
  }
}

}  // namespace

Result<std::vector<Found>> Browse(const std::string& type, const std::string& interface,
                                  std::chrono::milliseconds wait) {
  ASSIGN_OR_RETURN(unsigned index, InterfaceIndex(interface));
  ASSIGN_OR_RETURN(Fd socket, OpenMdnsSocket(0));
  Bytes query = BrowseQuery(type);
  sockaddr_in6 group = MdnsGroup(index);
  SendTo(socket.get(), query, group);
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + wait;
  auto ask_again = start + wait / 2;
  bool asked_again = false;
  std::vector<Found> found;
  for (auto now = start; now < deadline; now = std::chrono::steady_clock::now()) {
    if (!asked_again && now >= ask_again) {
      SendTo(socket.get(), query, group);
      asked_again = true;
    }
    auto until = asked_again ? deadline : ask_again;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1;
    pollfd ready{socket.get(), POLLIN, 0};
    if (poll(&ready, 1, static_cast<int>(left)) > 0) {
      ReadAnswers(socket.get(), type, found);
    }
  }
  return found;
}

}  // namespace concierge::dnssd
