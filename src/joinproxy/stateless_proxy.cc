#include "joinproxy/stateless_proxy.h"

#include "joinproxy/jpy.h"

namespace concierge::joinproxy {

std::string SourceKey(const PledgeAddress& pledge) {
  std::string key(reinterpret_cast<const char*>(pledge.ip.data()), pledge.ipv6 ? 16 : 4);
  key += static_cast<char>(pledge.ifindex & 0xff);
  key += static_cast<char>((pledge.ifindex >> 8) & 0xff);
  return key;
}

PledgeGate::PledgeGate(const ProxyLimits& limits)
    : per_pledge_(limits.per_pledge, limits.max_sources), all_pledges_(limits.all_pledges) {}

bool PledgeGate::Admit(const PledgeAddress& from, size_t size, SystemTime now,
                       ProxyCounters& counters) {
  if (size > kMaxJpyContent) {
    ++counters.oversize;
    return false;
  }
  if (!per_pledge_.At(SourceKey(from)).Take(now) || !all_pledges_.Take(now)) {
    ++counters.rate_limited;
    return false;
  }
  return true;
}

StatelessProxy::StatelessProxy(const Clock& clock, Random& random, ProxyLimits limits,
                               SealerTimes times)
    : clock_(clock), sealer_(clock, random, times), gate_(limits) {}

std::optional<Bytes> StatelessProxy::FromPledge(const PledgeAddress& from, ByteSpan datagram) {
  if (!gate_.Admit(from, datagram.size(), clock_.Now(), counters_)) {
    return std::nullopt;
  }
  ++counters_.to_registrar;
  return EncodeJpy(sealer_.Seal(from), datagram);
}

std::optional<StatelessProxy::ToPledge> StatelessProxy::FromRegistrar(ByteSpan datagram) {
  auto message = DecodeJpy(datagram);
  if (!message) {
    ++counters_.malformed;
    return std::nullopt;
  }
  auto pledge = sealer_.Open(message->header);
  if (!pledge) {
    ++counters_.unauthentic;
    return std::nullopt;
  }
  ++counters_.to_pledges;
  return ToPledge{*pledge, std::move(message->content)};
}

}  // namespace concierge::joinproxy
