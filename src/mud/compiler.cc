#include "mud/compiler.h"

#include <algorithm>
#include <set>

#include "common/bytes.h"
#include "crypto/key.h"

namespace concierge::mud {
namespace {

std::string ShortHash(std::string_view key) {
  Bytes digest = crypto::Sha256(AsBytes(key));
  return HexEncode(digest).substr(0, 10);
}

std::string FamilySuffix(IpFamily family) {
  return family == IpFamily::kIpv4 ? "4" : "6";
}

ConnectionDirection ConnectionFor(Direction policy, std::optional<Direction> initiated) {
  if (!initiated) {
    return ConnectionDirection::kAny;
  }
  return *initiated == policy ? ConnectionDirection::kOriginal : ConnectionDirection::kReply;
}

class Compiler {
 public:
  Compiler(std::span<const MudFile> files, const SiteFacts& facts, const ResolvedNames& names)
      : files_(files), facts_(facts), names_(names) {}

  Result<Policy> Run() {
    RETURN_IF_ERROR(IndexDevices());
    std::set<std::string> urls;
    for (const MudFile& file : files_) {
      if (!urls.insert(file.mud_url).second) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "two MUD files claim the URL " + file.mud_url);
      }
      ASSIGN_OR_RETURN(Profile profile, CompileFile(file));
      policy_.profiles.push_back(std::move(profile));
    }
    RETURN_IF_ERROR(Bind(urls));
    for (auto& [name, set] : sets_) {
      policy_.sets.push_back(std::move(set));
    }
    std::ranges::sort(policy_.profiles, {}, &Profile::id);
    std::ranges::sort(policy_.bindings, {}, &Binding::device);
    return std::move(policy_);
  }

 private:
  Status IndexDevices() {
    for (const ManagedDevice& device : facts_.devices) {
      std::vector<IpNetwork> addresses;
      for (const std::string& text : device.addresses) {
        ASSIGN_OR_RETURN_CTX(IpNetwork address, IpNetwork::Parse(text), "device " + device.name);
        if (!address.IsHost()) {
          return MakeError(ErrorCode::kInvalidArgument,
                           "device " + device.name + ": " + text + " is a network, not an address");
        }
        addresses.push_back(address);
      }
      device_addresses_[device.name] = addresses;
      for (const IpNetwork& address : addresses) {
        auto [holder, fresh] = address_holder_.emplace(address, device.name);
        if (!fresh) {
          return MakeError(ErrorCode::kInvalidArgument,
                           "devices " + holder->second + " and " + device.name +
                               " both claim the address " + address.ToString());
        }
        by_url_[device.mud_url].push_back(address);
        by_authority_[UrlAuthority(device.mud_url)].push_back(address);
      }
    }
    return OkStatus();
  }

  Result<Profile> CompileFile(const MudFile& file) {
    Profile profile;
    profile.mud_url = file.mud_url;
    profile.id = "mud_" + ShortHash(file.mud_url);
    profile.from_device_v4.name = profile.id + "_from4";
    profile.to_device_v4.name = profile.id + "_to4";
    profile.from_device_v6.name = profile.id + "_from6";
    profile.to_device_v6.name = profile.id + "_to6";
    profile.ace_count = file.AceCount();
    for (Direction direction : {Direction::kFromDevice, Direction::kToDevice}) {
      const auto& acl_names =
          direction == Direction::kFromDevice ? file.from_device_acls : file.to_device_acls;
      for (const std::string& acl_name : acl_names) {
        const Acl* acl = file.FindAcl(acl_name);
        if (acl == nullptr) {
          return MakeError(ErrorCode::kInvalidArgument, file.mud_url + ": policy names ACL \"" +
                                                            acl_name + "\", which is absent");
        }
        if (acl->type == AclType::kEthernet) {
          profile.notes.push_back("acl " + acl->name + " (ethernet, " +
                                  std::to_string(acl->aces.size()) +
                                  " entries): link-layer frames do not cross the router; the "
                                  "link enforces them, not this policy");
          continue;
        }
        IpFamily family = acl->type == AclType::kIpv4 ? IpFamily::kIpv4 : IpFamily::kIpv6;
        Chain& chain = family == IpFamily::kIpv4
                           ? (direction == Direction::kFromDevice ? profile.from_device_v4
                                                                  : profile.to_device_v4)
                           : (direction == Direction::kFromDevice ? profile.from_device_v6
                                                                  : profile.to_device_v6);
        for (const Ace& ace : acl->aces) {
          ASSIGN_OR_RETURN_CTX(std::optional<Rule> rule,
                               CompileAce(file, *acl, ace, direction, family, profile),
                               file.mud_url + " acl " + acl->name + " ace " + ace.name);
          if (rule) {
            chain.rules.push_back(std::move(*rule));
          }
        }
      }
    }
    std::ranges::sort(profile.notes);
    profile.notes.erase(std::ranges::unique(profile.notes).begin(), profile.notes.end());
    return profile;
  }

  // CompileAce gives nullopt for an entry that can match no packet: one naming an address of
  // the other family (MUDgee wrote IPv4 gateways into IPv6 ACLs). Leaving it out is exact.
  Result<std::optional<Rule>> CompileAce(const MudFile& file, const Acl& acl, const Ace& ace,
                                         Direction direction, IpFamily family, Profile& profile) {
    const AceMatches& m = ace.matches;
    Rule rule;
    rule.origin = acl.name + "/" + ace.name;
    rule.action = ace.action;
    rule.protocol = m.protocol;
    rule.source_port = m.source_port;
    rule.destination_port = m.destination_port;
    rule.icmp_type = m.icmp_type;
    rule.icmp_code = m.icmp_code;
    rule.connection = ConnectionFor(direction, m.direction_initiated);
    for (auto [text, network] : {std::pair{&m.source_network, &rule.source_network},
                                 std::pair{&m.destination_network, &rule.destination_network}}) {
      if (text->empty()) {
        continue;
      }
      ASSIGN_OR_RETURN(*network, IpNetwork::Parse(*text));
      if ((*network)->family != family) {
        profile.notes.push_back("ace " + rule.origin + " names " + *text + " in an " +
                                (family == IpFamily::kIpv4 ? "IPv4" : "IPv6") +
                                " ACL; it can match no packet and is left out");
        return std::optional<Rule>();
      }
    }
    if (!m.source_dnsname.empty()) {
      rule.source_sets.push_back(DnsSet(m.source_dnsname, family, profile));
    }
    if (!m.destination_dnsname.empty()) {
      rule.destination_sets.push_back(DnsSet(m.destination_dnsname, family, profile));
    }
    // The abstractions name the device's peer: the destination of what the device sends, the
    // source of what it receives.
    auto& peer_sets =
        direction == Direction::kFromDevice ? rule.destination_sets : rule.source_sets;
    const MudAbstractions& a = m.mud;
    if (!a.manufacturer.empty()) {
      peer_sets.push_back(GroupSet("manufacturer", a.manufacturer, family));
    }
    if (a.same_manufacturer) {
      peer_sets.push_back(GroupSet("manufacturer", UrlAuthority(file.mud_url), family));
    }
    if (!a.model.empty()) {
      peer_sets.push_back(GroupSet("model", a.model, family));
    }
    if (a.local_networks) {
      peer_sets.push_back(FactSet("local-networks", "", facts_.local_networks, family, profile));
    }
    if (!a.controller.empty()) {
      auto found = facts_.controllers.find(a.controller);
      peer_sets.push_back(FactSet("controller", a.controller,
                                  found == facts_.controllers.end() ? NoValues() : found->second,
                                  family, profile));
    }
    if (a.my_controller) {
      auto found = facts_.my_controllers.find(file.mud_url);
      peer_sets.push_back(FactSet("my-controller", file.mud_url,
                                  found == facts_.my_controllers.end() ? NoValues() : found->second,
                                  family, profile));
    }
    return rule;
  }

  std::string DnsSet(const std::string& name, IpFamily family, Profile& profile) {
    std::string set_name = "dns_" + ShortHash(name) + "_" + FamilySuffix(family);
    auto found = names_.find(name);
    if (found == names_.end()) {
      profile.notes.push_back("dns name " + name + " is not resolved yet; flows to it are blocked");
    } else if (found->second.empty()) {
      profile.notes.push_back("dns name " + name + " has no address; flows to it are blocked");
    }
    if (sets_.contains(set_name)) {
      return set_name;
    }
    std::vector<IpNetwork> elements;
    if (found != names_.end()) {
      for (const std::string& text : found->second) {
        if (auto address = IpNetwork::Parse(text); address && address->family == family) {
          elements.push_back(*address);
        }
      }
    }
    AddSet(set_name, "dns " + name, family, std::move(elements));
    return set_name;
  }

  // GroupSet is the set of the site's devices of one manufacturer or one model.
  std::string GroupSet(std::string_view kind, const std::string& key, IpFamily family) {
    bool model = kind == "model";
    std::string set_name =
        std::string(model ? "model_" : "mfr_") + ShortHash(key) + "_" + FamilySuffix(family);
    if (!sets_.contains(set_name)) {
      const auto& index = model ? by_url_ : by_authority_;
      std::vector<IpNetwork> elements;
      if (auto found = index.find(key); found != index.end()) {
        std::ranges::copy_if(found->second, std::back_inserter(elements),
                             [&](const IpNetwork& a) { return a.family == family; });
      }
      AddSet(set_name, std::string(kind) + " " + key, family, std::move(elements));
    }
    return set_name;
  }

  // FactSet is the set of addresses a site fact gives an abstraction: the local networks, or
  // a class of controllers.
  std::string FactSet(std::string_view kind, const std::string& key,
                      const std::vector<std::string>& values, IpFamily family, Profile& profile) {
    std::string prefix = kind == "local-networks" ? "local"
                         : kind == "controller"   ? "ctl"
                                                  : "myctl";
    std::string set_name = key.empty() ? prefix + "_" + FamilySuffix(family)
                                       : prefix + "_" + ShortHash(key) + "_" + FamilySuffix(family);
    if (values.empty()) {
      profile.notes.push_back(std::string(kind) + (key.empty() ? "" : " " + key) +
                              " is not configured at this site; flows to it are blocked");
    }
    if (!sets_.contains(set_name)) {
      std::vector<IpNetwork> elements;
      for (const std::string& text : values) {
        // Facts were checked when they were recorded; a bad one here is skipped, not fatal.
        if (auto network = IpNetwork::Parse(text); network && network->family == family) {
          elements.push_back(*network);
        }
      }
      AddSet(set_name, key.empty() ? std::string(kind) : std::string(kind) + " " + key, family,
             std::move(elements));
    }
    return set_name;
  }

  void AddSet(const std::string& name, std::string origin, IpFamily family,
              std::vector<IpNetwork> elements) {
    sets_[name] =
        AddressSet{name, std::move(origin), family, NormalizeNetworks(std::move(elements))};
  }

  Status Bind(const std::set<std::string>& urls) {
    for (const ManagedDevice& device : facts_.devices) {
      if (!urls.contains(device.mud_url)) {
        return MakeError(ErrorCode::kInvalidArgument, "device " + device.name + " names MUD URL " +
                                                          device.mud_url +
                                                          ", for which there is no file");
      }
      policy_.bindings.push_back(
          Binding{device.name, "mud_" + ShortHash(device.mud_url), device_addresses_[device.name]});
    }
    return OkStatus();
  }

  static const std::vector<std::string>& NoValues() {
    static const std::vector<std::string> none;
    return none;
  }

  std::span<const MudFile> files_;
  const SiteFacts& facts_;
  const ResolvedNames& names_;
  Policy policy_;
  std::map<std::string, AddressSet> sets_;
  std::map<std::string, std::vector<IpNetwork>> device_addresses_;
  std::map<IpNetwork, std::string> address_holder_;
  std::map<std::string, std::vector<IpNetwork>> by_url_;
  std::map<std::string, std::vector<IpNetwork>> by_authority_;
};

}  // namespace

std::string UrlAuthority(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string_view authority =
      url.substr(start, end == std::string_view::npos ? url.size() - start : end - start);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string lower(authority);
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower;
}

std::vector<std::string> DnsNamesUsed(std::span<const MudFile> files) {
  std::set<std::string> names;
  for (const MudFile& file : files) {
    for (const Acl& acl : file.acls) {
      for (const Ace& ace : acl.aces) {
        for (const std::string* name :
             {&ace.matches.source_dnsname, &ace.matches.destination_dnsname}) {
          if (!name->empty()) {
            names.insert(*name);
          }
        }
      }
    }
  }
  return {names.begin(), names.end()};
}

Result<Policy> CompilePolicy(std::span<const MudFile> files, const SiteFacts& facts,
                             const ResolvedNames& names) {
  return Compiler(files, facts, names).Run();
}

const Profile* Policy::FindProfile(std::string_view id) const {
  auto found = std::ranges::find(profiles, id, &Profile::id);
  return found == profiles.end() ? nullptr : &*found;
}

const Binding* Policy::FindBinding(std::string_view device) const {
  auto found = std::ranges::find(bindings, device, &Binding::device);
  return found == bindings.end() ? nullptr : &*found;
}

size_t Policy::RuleCount() const {
  size_t count = 0;
  for (const Profile& profile : profiles) {
    count += profile.from_device_v4.rules.size() + profile.to_device_v4.rules.size() +
             profile.from_device_v6.rules.size() + profile.to_device_v6.rules.size();
  }
  return count;
}

namespace {

template <typename Change>
void ChangeEveryRule(Policy& policy, Change change) {
  for (Profile& profile : policy.profiles) {
    for (Chain* chain : {&profile.from_device_v4, &profile.to_device_v4, &profile.from_device_v6,
                         &profile.to_device_v6}) {
      for (Rule& rule : chain->rules) {
        change(rule);
      }
    }
  }
}

}  // namespace

void ForgetDirectionInitiated(Policy& policy) {
  ChangeEveryRule(policy, [](Rule& rule) { rule.connection = ConnectionDirection::kAny; });
}

void RelaxLikeInxu(Policy& policy) {
  ChangeEveryRule(policy, [](Rule& rule) {
    rule.source_port.reset();
    rule.destination_port.reset();
    rule.connection = ConnectionDirection::kAny;
  });
}

}  // namespace concierge::mud
