#include "exposure/mirai_sim.h"

#include <cmath>
#include <queue>
#include <random>
#include <string_view>

#include "common/json.h"

namespace concierge::exposure {
namespace {

// Source ports: the scanner's raw SYNs take any port from 1024, connect() the kernel's range.
constexpr uint16_t kRawLow = 1024;
constexpr uint16_t kEphemeralLow = 32768;
constexpr uint16_t kEphemeralHigh = 60999;
constexpr std::string_view kFactoryLogin = "factory-credentials";

enum class EventKind : uint8_t { kCncTry, kDiscover, kSessionEnd, kLoaderRun, kFlood };

struct Event {
  double time = 0;
  uint64_t order = 0;  // ties break by creation, so a seed fixes the whole run
  EventKind kind = EventKind::kCncTry;
  uint32_t bot = 0;
  uint32_t target = 0;
  bool success = false;

  bool operator>(const Event& other) const {
    return std::tie(time, order) > std::tie(other.time, other.order);
  }
};

class Simulation {
 public:
  Simulation(const MiraiSite& site, const MiraiParameters& parameters, uint64_t seed)
      : site_(site), parameters_(parameters), random_(seed), index_(*site.policy) {}

  MiraiOutcome Run() {
    Prepare();
    for (uint32_t bot = 0; bot < devices_.size(); ++bot) {
      StartBot(0, bot);
    }
    for (int run = 0; run < parameters_.loader_runs; ++run) {
      Schedule(60 * (parameters_.loader_first_minute + run * parameters_.loader_every_minutes),
               EventKind::kLoaderRun, 0, 0);
    }
    for (size_t flood = 0; flood < site_.floods.size(); ++flood) {
      Schedule(60 * parameters_.attacks_minute +
                   static_cast<double>(flood) *
                       (parameters_.flood_seconds + parameters_.flood_gap_seconds),
               EventKind::kFlood, 0, static_cast<uint32_t>(flood));
    }
    double end = 60 * parameters_.minutes;
    while (!queue_.empty() && queue_.top().time <= end) {
      Event event = queue_.top();
      queue_.pop();
      ++outcome_.events;
      Handle(event);
    }
    return outcome_;
  }

 private:
  struct Device {
    uint32_t node = 0;
    bool bot = false;
    bool cnc = false;
    bool reported = false;
    bool loaded = false;
    bool waiting = false;  // a host was found while every session was busy
    int sessions = 0;
  };

  double Uniform() { return static_cast<double>(random_() >> 11) * 0x1.0p-53; }

  double Exponential(double rate) { return -std::log(1.0 - Uniform()) / rate; }

  void Schedule(double time, EventKind kind, uint32_t bot, uint32_t target, bool success = false) {
    queue_.push({time, next_order_++, kind, bot, target, success});
  }

  void Prepare() {
    const auto& nodes = site_.graph->nodes;
    for (uint32_t node = 0; node < nodes.size(); ++node) {
      if (nodes[node].host) {
        continue;
      }
      classes_.push_back(node);
      first_device_.push_back(static_cast<uint32_t>(devices_.size()));
      for (size_t member = 0; member < nodes[node].members.size(); ++member) {
        devices_.push_back({static_cast<uint32_t>(classes_.size() - 1)});
      }
    }
    first_device_.push_back(static_cast<uint32_t>(devices_.size()));
    size_t count = classes_.size();
    double total_weight = 0;
    for (const Credential& credential : site_.credentials) {
      total_weight += credential.weight;
      if (credential.user == site_.device_login.user &&
          credential.password == site_.device_login.password) {
        cracking_ += credential.weight;
      }
    }
    cracking_ = total_weight > 0 ? cracking_ / total_weight : 0;
    scan_.assign(count, std::vector<double>(count * 2, 0));
    login_.assign(count, std::vector<double>(count * 2, 0));
    rate_.assign(count, 0);
    for (size_t from = 0; from < count; ++from) {
      for (size_t to = 0; to < count; ++to) {
        Prepare(from, to);
      }
    }
    for (size_t node = 0; node < count; ++node) {
      const IpNetwork& address = Representative(nodes[classes_[node]]);
      cnc_.push_back(Open(address, site_.edge, site_.cnc_port));
      report_.push_back(Open(address, site_.edge, site_.report_port));
      loader_.push_back(Open(site_.edge, address, 23) *
                        Open(address, site_.edge, site_.loader_port));
      std::vector<double> floods;
      floods.reserve(site_.floods.size());
      for (const Flood& flood : site_.floods) {
        floods.push_back(index_.OpenFraction(address, flood.target, flood.protocol, flood.port,
                                             kRawLow, 65535, flood.needs_connection));
      }
      flood_.push_back(std::move(floods));
    }
  }

  double Open(const IpNetwork& from, const IpNetwork& to, uint16_t port) const {
    return index_.OpenFraction(from, to, 6, port, kEphemeralLow, kEphemeralHigh, true);
  }

  void Prepare(size_t from, size_t to) {
    const auto& nodes = site_.graph->nodes;
    const Node& source = nodes[classes_[from]];
    const Node& target = nodes[classes_[to]];
    double others = static_cast<double>(target.members.size()) - (from == to ? 1 : 0);
    if (others <= 0) {
      return;
    }
    for (int slot = 0; slot < 2; ++slot) {
      uint16_t port = slot == 0 ? 23 : 2323;
      if (std::ranges::find(parameters_.telnet_listeners, port) ==
          parameters_.telnet_listeners.end()) {
        continue;
      }
      const IpNetwork& sender = Representative(source);
      const IpNetwork& receiver = Representative(target, from == to);
      double share = slot == 0 ? 1 - parameters_.share_2323 : parameters_.share_2323;
      double found = index_.OpenFraction(sender, receiver, 6, port, kRawLow, 65535, true);
      scan_[from][to * 2 + slot] = share * found * others;
      // Only a device that still has the factory login can be cracked.
      bool weak = std::ranges::binary_search(target.weaknesses, std::string(kFactoryLogin));
      login_[from][to * 2 + slot] = weak ? Open(sender, receiver, port) : 0;
      rate_[from] += scan_[from][to * 2 + slot];
    }
  }

  double DiscoveryRate(uint32_t bot) const {
    return rate_[devices_[bot].node] * parameters_.scan_pps /
           static_cast<double>(site_.scanned_addresses);
  }

  void StartBot(double now, uint32_t bot) {
    devices_[bot].bot = true;
    Schedule(now + Uniform() * parameters_.cnc_retry_seconds, EventKind::kCncTry, bot, 0);
    if (DiscoveryRate(bot) > 0) {
      Schedule(now + Exponential(DiscoveryRate(bot)), EventKind::kDiscover, bot, 0);
    }
  }

  void Handle(const Event& event) {
    switch (event.kind) {
      case EventKind::kCncTry:
        return TryCnc(event);
      case EventKind::kDiscover:
        return Discover(event);
      case EventKind::kSessionEnd:
        return EndSession(event);
      case EventKind::kLoaderRun:
        return RunLoader(event.time);
      case EventKind::kFlood:
        return RunFlood(event.target);
    }
  }

  void TryCnc(const Event& event) {
    Device& device = devices_[event.bot];
    if (device.cnc) {
      return;
    }
    if (Uniform() < cnc_[device.node]) {
      device.cnc = true;
      ++outcome_.bots_with_cnc;
      return;
    }
    Schedule(event.time + 1 + Uniform() * (parameters_.cnc_retry_seconds - 1), EventKind::kCncTry,
             event.bot, 0);
  }

  void Discover(const Event& event) {
    Device& bot = devices_[event.bot];
    if (bot.sessions >= parameters_.max_sessions) {
      bot.waiting = true;  // the next find comes after a session ends (finds are memoryless)
      return;
    }
    const std::vector<double>& weights = scan_[bot.node];
    double pick = Uniform() * rate_[bot.node];
    size_t slot = 0;
    while (slot + 1 < weights.size() && pick >= weights[slot]) {
      pick -= weights[slot++];
    }
    uint32_t node = static_cast<uint32_t>(slot / 2);
    uint32_t first = first_device_[node];
    uint32_t size = first_device_[node + 1] - first;
    uint32_t target = first + static_cast<uint32_t>(Uniform() * size) % size;
    if (target == event.bot) {
      target = first + (target - first + 1) % size;
    }
    double success = login_[bot.node][slot] * cracking_;
    int attempts = 1;
    bool cracked = Uniform() < success;
    while (!cracked && attempts < parameters_.max_attempts) {
      ++attempts;
      cracked = Uniform() < success;
    }
    ++bot.sessions;
    Schedule(event.time + attempts * parameters_.attempt_seconds, EventKind::kSessionEnd, event.bot,
             target, cracked);
    Schedule(event.time + Exponential(DiscoveryRate(event.bot)), EventKind::kDiscover, event.bot,
             0);
  }

  void EndSession(const Event& event) {
    Device& bot = devices_[event.bot];
    --bot.sessions;
    Device& target = devices_[event.target];
    if (event.success && Uniform() < report_[bot.node] && !target.reported) {
      target.reported = true;
      ++outcome_.hosts_scanned;
      reported_.push_back(event.target);
    }
    if (bot.waiting) {
      bot.waiting = false;
      Schedule(event.time + Exponential(DiscoveryRate(event.bot)), EventKind::kDiscover, event.bot,
               0);
    }
  }

  void RunLoader(double now) {
    for (uint32_t host : reported_) {
      Device& device = devices_[host];
      if (device.loaded || Uniform() >= loader_[device.node]) {
        continue;
      }
      device.loaded = true;
      ++outcome_.new_infections;
      if (!device.bot) {
        StartBot(now, host);
      }
    }
  }

  void RunFlood(uint32_t flood) {
    auto packets = static_cast<uint64_t>(parameters_.flood_pps * parameters_.flood_seconds);
    for (const Device& device : devices_) {
      if (device.cnc) {
        outcome_.ddos_generated += packets;
        outcome_.ddos_transmitted += static_cast<uint64_t>(
            std::llround(static_cast<double>(packets) * flood_[device.node][flood]));
      }
    }
  }

  const MiraiSite& site_;
  const MiraiParameters& parameters_;
  std::mt19937_64 random_;
  PolicyIndex index_;
  std::vector<uint32_t> classes_;       // graph node of each class
  std::vector<uint32_t> first_device_;  // per class, plus one past the end
  std::vector<Device> devices_;
  double cracking_ = 0;  // chance that one login attempt draws the device's credential
  std::vector<std::vector<double>> scan_;   // [from][to * 2 + port slot]: finds, weighted
  std::vector<std::vector<double>> login_;  // [from][to * 2 + port slot]: connect() gets through
  std::vector<double> rate_;                // sum of scan_ per class
  std::vector<double> cnc_, report_, loader_;
  std::vector<std::vector<double>> flood_;
  std::vector<uint32_t> reported_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  uint64_t next_order_ = 0;
  MiraiOutcome outcome_;
};

}  // namespace

Result<std::vector<Credential>> ParseCredentials(std::string_view json) {
  ASSIGN_OR_RETURN(Json document, ParseJsonObject(json, "credentials file"));
  auto list = document.find("credentials");
  if (list == document.end() || !list->is_array()) {
    return MakeError(ErrorCode::kBadFormat, "credentials: expected an array");
  }
  std::vector<Credential> out;
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& entry = (*list)[i];
    std::string path = "credentials[" + std::to_string(i) + "]";
    if (!entry.is_object() || !entry.contains("user") || !entry["user"].is_string() ||
        !entry.contains("password") || !entry["password"].is_string()) {
      return MakeError(ErrorCode::kBadFormat, path + ": expected user and password strings");
    }
    auto weight_entry = entry.find("weight");
    int64_t weight = 1;
    if (weight_entry != entry.end()) {
      weight = weight_entry->is_number_integer() ? weight_entry->get<int64_t>() : 0;
    }
    if (weight < 1 || weight > 100) {
      return MakeError(ErrorCode::kBadFormat, path + ".weight: expected 1..100");
    }
    out.push_back({entry["user"].get<std::string>(), entry["password"].get<std::string>(),
                   static_cast<int>(weight)});
  }
  return out;
}

Result<MiraiOutcome> SimulateMirai(const MiraiSite& site, const MiraiParameters& parameters,
                                   uint64_t seed) {
  if (site.graph == nullptr || site.policy == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "simulation: no site graph or policy");
  }
  if (site.scanned_addresses == 0 || parameters.scan_pps <= 0 || parameters.minutes <= 0 ||
      parameters.max_attempts < 1 || parameters.max_sessions < 1) {
    return MakeError(ErrorCode::kInvalidArgument, "simulation: parameters out of range");
  }
  return Simulation(site, parameters, seed).Run();
}

}  // namespace concierge::exposure
