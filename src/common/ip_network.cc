#include "common/ip_network.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <tuple>

namespace concierge {
namespace {

int FullLength(IpFamily family) {
  return family == IpFamily::kIpv4 ? 32 : 128;
}

bool PrefixBitsEqual(const IpNetwork& a, const IpNetwork& b, int bits) {
  int whole = bits / 8;
  if (!std::equal(a.bytes.begin(), a.bytes.begin() + whole, b.bytes.begin())) {
    return false;
  }
  int rest = bits % 8;
  if (rest == 0) {
    return true;
  }
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[whole] & mask) == (b.bytes[whole] & mask);
}

}  // namespace

Result<IpNetwork> IpNetwork::Parse(std::string_view text) {
  // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict for
  // "literal" + std::string&&.
  auto bad = [&](std::string_view why) {
    std::string message = "\"";
    message.append(text.substr(0, 64)).append("\" is not an IP address or network: ").append(why);
    return MakeError(ErrorCode::kInvalidArgument, message);
  };
  IpNetwork network;
  std::string address(text.substr(0, text.find('/')));
  if (inet_pton(AF_INET, address.c_str(), network.bytes.data()) == 1) {
    network.family = IpFamily::kIpv4;
  } else if (inet_pton(AF_INET6, address.c_str(), network.bytes.data()) == 1) {
    network.family = IpFamily::kIpv6;
  } else {
    return bad("bad address");
  }
  network.prefix = FullLength(network.family);
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || prefix < 0 ||
        prefix > network.prefix) {
      return bad("bad prefix length");
    }
    network.prefix = prefix;
  }
  for (int bit = network.prefix; bit < FullLength(network.family); ++bit) {
    network.bytes[static_cast<size_t>(bit / 8)] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  return network;
}

bool IpNetwork::Contains(const IpNetwork& other) const {
  return family == other.family && prefix <= other.prefix && PrefixBitsEqual(*this, other, prefix);
}

std::string IpNetwork::ToString() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == IpFamily::kIpv4 ? AF_INET : AF_INET6, bytes.data(), buffer, sizeof(buffer));
  std::string text(buffer);
  if (!IsHost()) {
    text += '/';
    text += std::to_string(prefix);
  }
  return text;
}

std::vector<IpNetwork> NormalizeNetworks(std::vector<IpNetwork> networks) {
  // Sorted by address then prefix, a network's containers come before it, and a kept network
  // that does not contain the last kept one lies wholly after it: only the last kept network
  // can contain the next.
  std::sort(networks.begin(), networks.end(), [](const IpNetwork& a, const IpNetwork& b) {
    return std::tie(a.family, a.bytes, a.prefix) < std::tie(b.family, b.bytes, b.prefix);
  });
  std::vector<IpNetwork> kept;
  for (const IpNetwork& network : networks) {
    if (!kept.empty() && kept.back().Contains(network)) {
      continue;
    }
    kept.push_back(network);
  }
  return kept;
}

}  // namespace concierge
