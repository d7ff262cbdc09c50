#include "joinproxy/stateful_proxy.h"

namespace concierge::joinproxy {
namespace {

std::string FlowKey(const PledgeAddress& pledge) {
  std::string key = SourceKey(pledge);
  key += static_cast<char>(pledge.port & 0xff);
  key += static_cast<char>(pledge.port >> 8);
  return key;
}

}  // namespace

StatefulProxy::StatefulProxy(const Clock& clock, StatefulLimits limits, ProxyLimits rates)
    : clock_(clock), limits_(limits), gate_(rates) {}

std::optional<StatefulProxy::Forward> StatefulProxy::FromPledge(const PledgeAddress& from,
                                                                size_t datagram_size) {
  SystemTime now = clock_.Now();
  if (!gate_.Admit(from, datagram_size, now, counters_)) {
    return std::nullopt;
  }
  auto known = by_pledge_.find(FlowKey(from));
  if (known != by_pledge_.end()) {
    flows_.at(known->second).last = now;
    ++counters_.to_registrar;
    return Forward{known->second, false};
  }
  size_t& at_address = per_address_[SourceKey(from)];
  size_t& on_interface = per_interface_[from.ifindex];
  if (at_address >= limits_.per_address || on_interface >= limits_.per_interface) {
    if (at_address == 0) {
      per_address_.erase(SourceKey(from));
    }
    ++counters_.table_full;
    return std::nullopt;
  }
  ++at_address;
  ++on_interface;
  FlowId flow = next_++;
  flows_.emplace(flow, Flow{from, now});
  by_pledge_.emplace(FlowKey(from), flow);
  ++counters_.flows_opened;
  ++counters_.to_registrar;
  return Forward{flow, true};
}

std::optional<PledgeAddress> StatefulProxy::FromRegistrar(FlowId flow) {
  auto found = flows_.find(flow);
  if (found == flows_.end()) {
    ++counters_.unauthentic;
    return std::nullopt;
  }
  found->second.last = clock_.Now();
  ++counters_.to_pledges;
  return found->second.pledge;
}

std::vector<StatefulProxy::FlowId> StatefulProxy::Expire() {
  std::vector<FlowId> ended;
  SystemTime now = clock_.Now();
  for (auto flow = flows_.begin(); flow != flows_.end();) {
    auto next = std::next(flow);
    if (now - flow->second.last > limits_.idle) {
      ended.push_back(flow->first);
      ++counters_.flows_expired;
      Forget(flow);
    }
    flow = next;
  }
  return ended;
}

void StatefulProxy::Close(FlowId flow) {
  auto found = flows_.find(flow);
  if (found != flows_.end()) {
    Forget(found);
  }
}

void StatefulProxy::Forget(std::unordered_map<FlowId, Flow>::iterator flow) {
  const PledgeAddress& pledge = flow->second.pledge;
  std::string address = SourceKey(pledge);
  if (--per_address_[address] == 0) {
    per_address_.erase(address);
  }
  if (--per_interface_[pledge.ifindex] == 0) {
    per_interface_.erase(pledge.ifindex);
  }
  by_pledge_.erase(FlowKey(pledge));
  flows_.erase(flow);
}

}  // namespace concierge::joinproxy
