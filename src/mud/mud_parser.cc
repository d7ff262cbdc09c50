#include "mud/mud_parser.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>

#include "common/ip_network.h"
#include "common/json.h"

namespace concierge::mud {
namespace {

constexpr std::string_view kMudContainer = "ietf-mud:mud";
constexpr std::string_view kAclsContainer = "ietf-access-control-list:acls";
constexpr std::string_view kLegacyAclsContainer = "ietf-access-control-list:access-lists";

std::unexpected<Error> Bad(const std::string& path, const std::string& what) {
  return MakeError(ErrorCode::kBadFormat, path + ": " + what);
}

// Member looks up the first of names present (the RFC name first, older spellings after).
const Json* Member(const Json& object, std::initializer_list<std::string_view> names) {
  for (auto name : names) {
    auto it = object.find(name);
    if (it != object.end()) {
      return &*it;
    }
  }
  return nullptr;
}

// Unknown collects the paths of members a parse does not understand, where the caller decides
// what ignoring them means; without one, an unknown member is refused.
using Unknown = std::vector<std::string>;

Status OnlyMembers(const Json& object, const std::string& path,
                   std::initializer_list<std::string_view> allowed, Unknown* unknown = nullptr) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string member_path = path;
      member_path += ".";
      member_path += key;
      if (unknown != nullptr) {
        unknown->push_back(std::move(member_path));
        continue;
      }
      return Bad(member_path, "unsupported member (refused rather than ignored)");
    }
  }
  return OkStatus();
}

std::string JoinPaths(const Unknown& paths) {
  std::string out;
  for (const auto& path : paths) {
    out += (out.empty() ? "" : ", ") + path;
  }
  return out;
}

Result<const Json*> Object(const Json& parent, std::initializer_list<std::string_view> names,
                           const std::string& path, bool required) {
  const Json* value = Member(parent, names);
  if (value == nullptr) {
    if (required) {
      return Bad(path + "." + std::string(*names.begin()), "missing");
    }
    return value;
  }
  if (!value->is_object()) {
    return Bad(path + "." + std::string(*names.begin()), "expected an object");
  }
  return value;
}

Result<std::string> String(const Json& parent, std::string_view name, const std::string& path,
                           bool required) {
  auto it = parent.find(name);
  if (it == parent.end()) {
    if (required) {
      return Bad(path + "." + std::string(name), "missing");
    }
    return std::string();
  }
  if (!it->is_string()) {
    return Bad(path + "." + std::string(name), "expected a string");
  }
  return it->get<std::string>();
}

Result<int64_t> Integer(const Json& value, const std::string& path, int64_t min, int64_t max) {
  if (!value.is_number_integer()) {
    return Bad(path, "expected an integer");
  }
  auto number = value.get<int64_t>();
  if (number < min || number > max) {
    return Bad(path, "expected " + std::to_string(min) + ".." + std::to_string(max));
  }
  return number;
}

// Empty is YANG's "empty" type, which JSON encodes as [null].
Result<bool> Empty(const Json& value, const std::string& path) {
  if (value.is_array() && value.size() == 1 && value[0].is_null()) {
    return true;
  }
  return Bad(path, "expected [null] (a YANG empty leaf)");
}

Result<PortMatch> ParsePort(const Json& value, const std::string& path) {
  if (!value.is_object()) {
    return Bad(path, "expected an object");
  }
  PortMatch port;
  const Json* lower = Member(value, {"lower-port"});
  const Json* upper = Member(value, {"upper-port"});
  if (lower != nullptr || upper != nullptr) {
    // A range; the UNSW profiles also write "operator": "eq" beside it, which adds nothing.
    if (lower == nullptr || upper == nullptr) {
      return Bad(path, "a port range needs both lower-port and upper-port");
    }
    RETURN_IF_ERROR(OnlyMembers(value, path, {"lower-port", "upper-port", "operator"}));
    ASSIGN_OR_RETURN(int64_t low, Integer(*lower, path + ".lower-port", 0, 65535));
    ASSIGN_OR_RETURN(int64_t high, Integer(*upper, path + ".upper-port", 0, 65535));
    if (low > high) {
      return Bad(path, "lower-port is above upper-port");
    }
    port.op = PortMatch::Op::kRange;
    port.lower = static_cast<uint16_t>(low);
    port.upper = static_cast<uint16_t>(high);
    return port;
  }
  RETURN_IF_ERROR(OnlyMembers(value, path, {"operator", "port"}));
  ASSIGN_OR_RETURN(std::string op, String(value, "operator", path, false));
  if (op.empty() || op == "eq") {
    port.op = PortMatch::Op::kEq;
  } else if (op == "lte") {
    port.op = PortMatch::Op::kLte;
  } else if (op == "gte") {
    port.op = PortMatch::Op::kGte;
  } else if (op == "neq") {
    port.op = PortMatch::Op::kNeq;
  } else {
    return Bad(path + ".operator", "unknown operator \"" + op.substr(0, 16) + "\"");
  }
  const Json* number = Member(value, {"port"});
  if (number == nullptr) {
    return Bad(path + ".port", "missing");
  }
  ASSIGN_OR_RETURN(int64_t p, Integer(*number, path + ".port", 0, 65535));
  port.lower = static_cast<uint16_t>(p);
  return port;
}

// IsDnsName accepts host names as RFC 1123 writes them (letters, digits, hyphens, dots; at
// most 253 characters, labels of 1..63), with an optional final dot.
bool IsDnsName(std::string_view name) {
  if (name.ends_with('.')) {
    name.remove_suffix(1);
  }
  if (name.empty() || name.size() > 253) {
    return false;
  }
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) {
        return false;
      }
      label = 0;
      continue;
    }
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '_') {
      return false;
    }
    if (++label > 63) {
      return false;
    }
  }
  return label > 0;
}

Status ParseIp(const Json& ip, const std::string& path, bool v6, AceMatches& m, Unknown* unknown) {
  std::string_view src = v6 ? "source-ipv6-network" : "source-ipv4-network";
  std::string_view dst = v6 ? "destination-ipv6-network" : "destination-ipv4-network";
  RETURN_IF_ERROR(OnlyMembers(
      ip, path, {"protocol", src, dst, "ietf-acldns:src-dnsname", "ietf-acldns:dst-dnsname"},
      unknown));
  if (const Json* protocol = Member(ip, {"protocol"})) {
    ASSIGN_OR_RETURN(int64_t number, Integer(*protocol, path + ".protocol", 0, 255));
    m.protocol = static_cast<uint8_t>(number);
  }
  ASSIGN_OR_RETURN(m.source_network, String(ip, src, path, false));
  ASSIGN_OR_RETURN(m.destination_network, String(ip, dst, path, false));
  ASSIGN_OR_RETURN(m.source_dnsname, String(ip, "ietf-acldns:src-dnsname", path, false));
  ASSIGN_OR_RETURN(m.destination_dnsname, String(ip, "ietf-acldns:dst-dnsname", path, false));
  for (auto [member, value] :
       {std::pair{src, &m.source_network}, std::pair{dst, &m.destination_network}}) {
    if (!value->empty() && !IpNetwork::Parse(*value)) {
      return Bad(path + "." + std::string(member),
                 "expected an IP network, got \"" + value->substr(0, 48) + "\"");
    }
  }
  for (auto [member, value] : {std::pair{"ietf-acldns:src-dnsname", &m.source_dnsname},
                               std::pair{"ietf-acldns:dst-dnsname", &m.destination_dnsname}}) {
    if (!value->empty() && !IsDnsName(*value)) {
      return Bad(path + "." + member, "expected a DNS name, got \"" + value->substr(0, 48) + "\"");
    }
  }
  if (!m.source_dnsname.empty() && !m.source_network.empty()) {
    return Bad(path, "source network and source DNS name are exclusive");
  }
  if (!m.destination_dnsname.empty() && !m.destination_network.empty()) {
    return Bad(path, "destination network and destination DNS name are exclusive");
  }
  return OkStatus();
}

Status ParseTransport(const Json& l4, const std::string& path, bool tcp, AceMatches& m,
                      Unknown* unknown) {
  if (tcp) {
    RETURN_IF_ERROR(OnlyMembers(
        l4, path, {"source-port", "destination-port", "ietf-mud:direction-initiated"}, unknown));
  } else {
    RETURN_IF_ERROR(OnlyMembers(l4, path, {"source-port", "destination-port"}, unknown));
  }
  if (const Json* port = Member(l4, {"source-port"})) {
    ASSIGN_OR_RETURN(m.source_port, ParsePort(*port, path + ".source-port"));
  }
  if (const Json* port = Member(l4, {"destination-port"})) {
    ASSIGN_OR_RETURN(m.destination_port, ParsePort(*port, path + ".destination-port"));
  }
  ASSIGN_OR_RETURN(std::string direction, String(l4, "ietf-mud:direction-initiated", path, false));
  if (direction == "from-device") {
    m.direction_initiated = Direction::kFromDevice;
  } else if (direction == "to-device") {
    m.direction_initiated = Direction::kToDevice;
  } else if (!direction.empty()) {
    return Bad(path + ".ietf-mud:direction-initiated",
               "expected from-device or to-device, got \"" + direction.substr(0, 16) + "\"");
  }
  uint8_t expected = tcp ? 6 : 17;
  if (m.protocol && *m.protocol != expected) {
    return Bad(path, std::string(tcp ? "tcp" : "udp") + " matches with IP protocol " +
                         std::to_string(*m.protocol));
  }
  m.protocol = expected;
  return OkStatus();
}

Result<uint16_t> Ethertype(const Json& value, const std::string& path) {
  if (value.is_number_integer()) {
    ASSIGN_OR_RETURN(int64_t number, Integer(value, path, 0, 0xffff));
    return static_cast<uint16_t>(number);
  }
  if (!value.is_string()) {
    return Bad(path, "expected a number or \"0x....\"");
  }
  std::string text = value.get<std::string>();
  std::string_view digits = text;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    digits.remove_prefix(2);
  }
  unsigned number = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number, 16);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      number > 0xffff) {
    return Bad(path, "expected a 16-bit ethertype, got \"" + text.substr(0, 16) + "\"");
  }
  return static_cast<uint16_t>(number);
}

Status ParseEth(const Json& eth, const std::string& path, AceMatches& m, Unknown* unknown) {
  RETURN_IF_ERROR(OnlyMembers(
      eth, path, {"destination-mac-address", "source-mac-address", "ethertype"}, unknown));
  ASSIGN_OR_RETURN(m.destination_mac, String(eth, "destination-mac-address", path, false));
  ASSIGN_OR_RETURN(m.source_mac, String(eth, "source-mac-address", path, false));
  if (const Json* type = Member(eth, {"ethertype"})) {
    ASSIGN_OR_RETURN(m.ethertype, Ethertype(*type, path + ".ethertype"));
  }
  return OkStatus();
}

Status ParseMudMatch(const Json& mud, const std::string& path, MudAbstractions& a,
                     Unknown* unknown) {
  RETURN_IF_ERROR(OnlyMembers(mud, path,
                              {"manufacturer", "same-manufacturer", "model", "local-networks",
                               "controller", "my-controller"},
                              unknown));
  ASSIGN_OR_RETURN(a.manufacturer, String(mud, "manufacturer", path, false));
  ASSIGN_OR_RETURN(a.model, String(mud, "model", path, false));
  ASSIGN_OR_RETURN(a.controller, String(mud, "controller", path, false));
  if (const Json* v = Member(mud, {"same-manufacturer"})) {
    ASSIGN_OR_RETURN(a.same_manufacturer, Empty(*v, path + ".same-manufacturer"));
  }
  if (const Json* v = Member(mud, {"local-networks"})) {
    ASSIGN_OR_RETURN(a.local_networks, Empty(*v, path + ".local-networks"));
  }
  if (const Json* v = Member(mud, {"my-controller"})) {
    ASSIGN_OR_RETURN(a.my_controller, Empty(*v, path + ".my-controller"));
  }
  int kinds = (a.manufacturer.empty() ? 0 : 1) + (a.same_manufacturer ? 1 : 0) +
              (a.model.empty() ? 0 : 1) + (a.local_networks ? 1 : 0) +
              (a.controller.empty() ? 0 : 1) + (a.my_controller ? 1 : 0);
  if (kinds != 1) {
    return Bad(path, "expected exactly one MUD abstraction, found " + std::to_string(kinds));
  }
  return OkStatus();
}

// ParseMatches collects the members it does not understand in `unknown`, at any depth, for
// ParseAcl to decide: ignoring a match qualifier widens what the entry matches.
Result<AceMatches> ParseMatches(const Json& matches, const std::string& path, AclType type,
                                Unknown* unknown) {
  if (!matches.is_object()) {
    return Bad(path, "expected an object");
  }
  RETURN_IF_ERROR(OnlyMembers(
      matches, path, {"ipv4", "ipv6", "tcp", "udp", "icmp", "eth", "ietf-mud:mud"}, unknown));
  AceMatches m;
  if (matches.contains("ipv4") && matches.contains("ipv6")) {
    return Bad(path, "ipv4 and ipv6 matches in one entry");
  }
  for (std::string_view family : {"ipv4", "ipv6"}) {
    if (const Json* ip = Member(matches, {family})) {
      if (type == AclType::kEthernet || (family == "ipv4") != (type == AclType::kIpv4)) {
        return Bad(path + "." + std::string(family), "does not fit the ACL's type");
      }
      if (!ip->is_object()) {
        return Bad(path + "." + std::string(family), "expected an object");
      }
      RETURN_IF_ERROR(ParseIp(*ip, path + "." + std::string(family), family == "ipv6", m, unknown));
    }
  }
  if (matches.contains("tcp") && matches.contains("udp")) {
    return Bad(path, "tcp and udp matches in one entry");
  }
  for (std::string_view l4 : {"tcp", "udp"}) {
    if (const Json* value = Member(matches, {l4})) {
      if (!value->is_object()) {
        return Bad(path + "." + std::string(l4), "expected an object");
      }
      RETURN_IF_ERROR(
          ParseTransport(*value, path + "." + std::string(l4), l4 == "tcp", m, unknown));
    }
  }
  if (const Json* icmp = Member(matches, {"icmp"})) {
    std::string icmp_path = path + ".icmp";
    if (!icmp->is_object()) {
      return Bad(icmp_path, "expected an object");
    }
    RETURN_IF_ERROR(OnlyMembers(*icmp, icmp_path, {"type", "code"}, unknown));
    if (const Json* v = Member(*icmp, {"type"})) {
      ASSIGN_OR_RETURN(int64_t n, Integer(*v, icmp_path + ".type", 0, 255));
      m.icmp_type = static_cast<uint8_t>(n);
    }
    if (const Json* v = Member(*icmp, {"code"})) {
      ASSIGN_OR_RETURN(int64_t n, Integer(*v, icmp_path + ".code", 0, 255));
      m.icmp_code = static_cast<uint8_t>(n);
    }
  }
  if (const Json* eth = Member(matches, {"eth"})) {
    if (!eth->is_object()) {
      return Bad(path + ".eth", "expected an object");
    }
    RETURN_IF_ERROR(ParseEth(*eth, path + ".eth", m, unknown));
  }
  if (const Json* mud = Member(matches, {"ietf-mud:mud"})) {
    if (!mud->is_object()) {
      return Bad(path + ".ietf-mud:mud", "expected an object");
    }
    RETURN_IF_ERROR(ParseMudMatch(*mud, path + ".ietf-mud:mud", m.mud, unknown));
  }
  return m;
}

Result<ForwardingAction> ParseActions(const Json& ace, const std::string& path) {
  ASSIGN_OR_RETURN(const Json* actions, Object(ace, {"actions"}, path, true));
  RETURN_IF_ERROR(OnlyMembers(*actions, path + ".actions", {"forwarding", "logging"}));
  ASSIGN_OR_RETURN(std::string forwarding, String(*actions, "forwarding", path + ".actions", true));
  std::string_view name = forwarding;
  if (auto colon = name.find(':'); colon != std::string_view::npos) {
    name.remove_prefix(colon + 1);  // "ietf-access-control-list:accept"
  }
  if (name == "accept") {
    return ForwardingAction::kAccept;
  }
  if (name == "drop") {
    return ForwardingAction::kDrop;
  }
  if (name == "reject") {
    return ForwardingAction::kReject;
  }
  return Bad(path + ".actions.forwarding", "unknown action \"" + forwarding.substr(0, 32) + "\"");
}

Result<AclType> ParseAclType(const std::string& text, const std::string& path) {
  std::string_view name = text;
  if (auto colon = name.find(':'); colon != std::string_view::npos) {
    name.remove_prefix(colon + 1);
  }
  if (name == "ipv4-acl-type" || name == "ipv4-acl") {
    return AclType::kIpv4;
  }
  if (name == "ipv6-acl-type" || name == "ipv6-acl") {
    return AclType::kIpv6;
  }
  if (name == "eth-acl-type" || name == "ethernet-acl-type") {
    return AclType::kEthernet;
  }
  return Bad(path, "unsupported ACL type \"" + text.substr(0, 48) + "\"");
}

Result<Acl> ParseAcl(const Json& value, const std::string& path,
                     std::vector<std::string>& warnings) {
  if (!value.is_object()) {
    return Bad(path, "expected an object");
  }
  RETURN_IF_ERROR(OnlyMembers(value, path, {"name", "type", "aces"}));
  Acl acl;
  ASSIGN_OR_RETURN(acl.name, String(value, "name", path, true));
  ASSIGN_OR_RETURN(std::string type, String(value, "type", path, true));
  ASSIGN_OR_RETURN(acl.type, ParseAclType(type, path + ".type"));
  ASSIGN_OR_RETURN(const Json* aces, Object(value, {"aces"}, path, true));
  const Json* list = Member(*aces, {"ace"});
  if (list == nullptr || !list->is_array()) {
    return Bad(path + ".aces.ace", "expected a list");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    std::string ace_path = path + ".aces.ace[" + std::to_string(i) + "]";
    const Json& entry = (*list)[i];
    if (!entry.is_object()) {
      return Bad(ace_path, "expected an object");
    }
    RETURN_IF_ERROR(OnlyMembers(entry, ace_path, {"name", "matches", "actions"}));
    Ace ace;
    ASSIGN_OR_RETURN(ace.name, String(entry, "name", ace_path, true));
    Unknown unknown;
    const Json* matches = Member(entry, {"matches"});
    if (matches != nullptr) {
      ASSIGN_OR_RETURN(ace.matches,
                       ParseMatches(*matches, ace_path + ".matches", acl.type, &unknown));
    }
    ASSIGN_OR_RETURN(ace.action, ParseActions(entry, ace_path));
    if (!unknown.empty()) {
      // Without a qualifier it does not understand, an entry matches more packets. For a drop
      // that is safe (it drops more); an accept would let through what the maker excluded, so
      // the entry is left out and deny, the default, applies to what it matched.
      if (ace.action == ForwardingAction::kAccept) {
        warnings.push_back(ace_path + " (\"" + ace.name + "\"): left out: it matches on " +
                           JoinPaths(unknown) +
                           ", not understood; ignoring that would widen an accept");
        continue;
      }
      warnings.push_back(ace_path + " (\"" + ace.name + "\"): " + JoinPaths(unknown) +
                         " not understood and ignored; the drop then matches more");
    }
    acl.aces.push_back(std::move(ace));
  }
  return acl;
}

Result<std::vector<std::string>> ParsePolicy(const Json& mud, std::string_view name,
                                             const std::string& path) {
  ASSIGN_OR_RETURN(const Json* policy, Object(mud, {name}, path, false));
  std::vector<std::string> names;
  if (policy == nullptr) {
    return names;
  }
  std::string policy_path = path + "." + std::string(name);
  ASSIGN_OR_RETURN(const Json* lists, Object(*policy, {"access-lists"}, policy_path, true));
  const Json* list = Member(*lists, {"access-list"});
  if (list == nullptr || !list->is_array()) {
    return Bad(policy_path + ".access-lists.access-list", "expected a list");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    std::string entry_path = policy_path + ".access-lists.access-list[" + std::to_string(i) + "]";
    if (!(*list)[i].is_object()) {
      return Bad(entry_path, "expected an object");
    }
    ASSIGN_OR_RETURN(std::string acl, String((*list)[i], "name", entry_path, true));
    names.push_back(std::move(acl));
  }
  return names;
}

// IgnoredWarning says why a node outside the access lists was ignored: RFC 8520 §3.9 asks
// that nodes not understood be ignored, and outside the ACLs ignoring one cannot widen access.
std::string IgnoredWarning(const std::string& path, const std::vector<std::string>& extensions) {
  std::string_view member = path;
  member.remove_prefix(std::min(member.size(), member.rfind('.') + 1));
  size_t colon = member.find(':');
  std::string_view module = colon == std::string_view::npos ? "" : member.substr(0, colon);
  std::string_view local = colon == std::string_view::npos ? member : member.substr(colon + 1);
  // An extension's node is named after it by its module or by itself, e.g. extension
  // "directed-broadcasts" as "mud-directed-broadcasts:directed-broadcasts".
  auto declared = std::ranges::find_if(extensions, [&](const std::string& name) {
    return module == name || local == name || module.ends_with("-" + name);
  });
  return path + ": ignored: " +
         (declared != extensions.end() ? "extension \"" + *declared + "\" is not supported"
                                       : std::string("not understood")) +
         " (RFC 8520 §3.9)";
}

Status ParseMudContainer(const Json& mud, MudFile& file) {
  const std::string path(kMudContainer);
  Unknown unknown;
  RETURN_IF_ERROR(OnlyMembers(
      mud, path,
      {"mud-version", "mud-url", "last-update", "mud-signature", "cache-validity", "is-supported",
       "systeminfo", "mfg-name", "model-name", "firmware-rev", "software-rev", "documentation",
       "extensions", "from-device-policy", "to-device-policy"},
      &unknown));
  const Json* version = Member(mud, {"mud-version"});
  if (version == nullptr) {
    return Bad(path + ".mud-version", "missing");
  }
  ASSIGN_OR_RETURN(int64_t v, Integer(*version, path + ".mud-version", 1, 1));
  file.mud_version = static_cast<int>(v);
  ASSIGN_OR_RETURN(file.mud_url, String(mud, "mud-url", path, true));
  if (!file.mud_url.starts_with("https://")) {
    return Bad(path + ".mud-url", "must be an https URL (RFC 8520 §1.5)");
  }
  ASSIGN_OR_RETURN(std::string last_update, String(mud, "last-update", path, true));
  ASSIGN_OR_RETURN_CTX(file.last_update, ParseRfc3339(last_update), path + ".last-update");
  ASSIGN_OR_RETURN(file.mud_signature, String(mud, "mud-signature", path, false));
  if (const Json* validity = Member(mud, {"cache-validity"})) {
    ASSIGN_OR_RETURN(int64_t hours, Integer(*validity, path + ".cache-validity", 1, 168));
    file.cache_validity_hours = static_cast<int>(hours);
  }
  const Json* supported = Member(mud, {"is-supported"});
  if (supported == nullptr || !supported->is_boolean()) {
    return Bad(path + ".is-supported", supported == nullptr ? "missing" : "expected true or false");
  }
  file.is_supported = supported->get<bool>();
  ASSIGN_OR_RETURN(file.systeminfo, String(mud, "systeminfo", path, false));
  ASSIGN_OR_RETURN(file.mfg_name, String(mud, "mfg-name", path, false));
  ASSIGN_OR_RETURN(file.model_name, String(mud, "model-name", path, false));
  ASSIGN_OR_RETURN(file.firmware_rev, String(mud, "firmware-rev", path, false));
  ASSIGN_OR_RETURN(file.software_rev, String(mud, "software-rev", path, false));
  ASSIGN_OR_RETURN(file.documentation, String(mud, "documentation", path, false));
  if (const Json* extensions = Member(mud, {"extensions"})) {
    if (!extensions->is_array()) {
      return Bad(path + ".extensions", "expected a list");
    }
    for (const auto& extension : *extensions) {
      if (!extension.is_string()) {
        return Bad(path + ".extensions", "expected strings");
      }
      file.extensions.push_back(extension.get<std::string>());
    }
  }
  ASSIGN_OR_RETURN(file.from_device_acls, ParsePolicy(mud, "from-device-policy", path));
  ASSIGN_OR_RETURN(file.to_device_acls, ParsePolicy(mud, "to-device-policy", path));
  for (const std::string& ignored : unknown) {
    file.warnings.push_back(IgnoredWarning(ignored, file.extensions));
  }
  return OkStatus();
}

}  // namespace

const Acl* MudFile::FindAcl(std::string_view name) const {
  auto it =
      std::find_if(acls.begin(), acls.end(), [&](const Acl& acl) { return acl.name == name; });
  return it == acls.end() ? nullptr : &*it;
}

size_t MudFile::AceCount() const {
  size_t count = 0;
  for (const auto& acl : acls) {
    count += acl.aces.size();
  }
  return count;
}

Result<MudFile> ParseMudJson(std::string_view json) {
  if (json.size() > kMaxMudFileSize) {
    return MakeError(ErrorCode::kTooLarge, "MUD file is " + std::to_string(json.size()) +
                                               " bytes, more than " +
                                               std::to_string(kMaxMudFileSize));
  }
  ASSIGN_OR_RETURN(Json document, ParseJsonObject(json, "MUD file"));
  Unknown top_level;
  RETURN_IF_ERROR(OnlyMembers(document, "MUD file",
                              {kMudContainer, kAclsContainer, kLegacyAclsContainer}, &top_level));
  MudFile file;
  ASSIGN_OR_RETURN(const Json* mud, Object(document, {kMudContainer}, "MUD file", true));
  RETURN_IF_ERROR(ParseMudContainer(*mud, file));
  for (const std::string& ignored : top_level) {
    file.warnings.push_back(IgnoredWarning(ignored, file.extensions));
  }
  ASSIGN_OR_RETURN(const Json* acls,
                   Object(document, {kAclsContainer, kLegacyAclsContainer}, "MUD file", false));
  if (acls != nullptr) {
    RETURN_IF_ERROR(OnlyMembers(*acls, "acls", {"acl"}));
    const Json* list = Member(*acls, {"acl"});
    if (list == nullptr || !list->is_array()) {
      return Bad("acls.acl", "expected a list");
    }
    for (size_t i = 0; i < list->size(); ++i) {
      ASSIGN_OR_RETURN(Acl acl,
                       ParseAcl((*list)[i], "acls.acl[" + std::to_string(i) + "]", file.warnings));
      if (file.FindAcl(acl.name) != nullptr) {
        return Bad("acls.acl[" + std::to_string(i) + "].name",
                   "ACL \"" + acl.name + "\" is defined twice");
      }
      file.acls.push_back(std::move(acl));
    }
  }
  for (const auto* policy : {&file.from_device_acls, &file.to_device_acls}) {
    for (const auto& name : *policy) {
      if (file.FindAcl(name) == nullptr) {
        return Bad(
            std::string(kMudContainer) +
                (policy == &file.from_device_acls ? ".from-device-policy" : ".to-device-policy"),
            "names ACL \"" + name + "\", which the file does not define");
      }
    }
  }
  return file;
}

}  // namespace concierge::mud
