#include "firewall/mud_check.h"

#include <array>
#include <utility>

#include "firewall/nft_ruleset.h"
#include "mud/compiler.h"
#include "mud/mud_parser.h"
#include "mud/mud_signature.h"

namespace concierge::firewall {
namespace {

std::string_view ActionName(mud::ForwardingAction action) {
  switch (action) {
    case mud::ForwardingAction::kAccept:
      return "accept";
    case mud::ForwardingAction::kDrop:
      return "drop";
    case mud::ForwardingAction::kReject:
      return "reject";
  }
  return "?";
}

std::string PortText(const mud::PortMatch& port) {
  switch (port.op) {
    case mud::PortMatch::Op::kEq:
      return std::to_string(port.lower);
    case mud::PortMatch::Op::kLte:
      return "<= " + std::to_string(port.lower);
    case mud::PortMatch::Op::kGte:
      return ">= " + std::to_string(port.lower);
    case mud::PortMatch::Op::kNeq:
      return "!= " + std::to_string(port.lower);
    case mud::PortMatch::Op::kRange:
      return std::to_string(port.lower) + "-" + std::to_string(port.upper);
  }
  return "?";
}

// Describe says what an entry matches, in the order a reader checks a flow.
std::string Describe(const mud::AceMatches& m) {
  std::vector<std::string> parts;
  if (m.protocol) {
    parts.push_back(*m.protocol == 6    ? "tcp"
                    : *m.protocol == 17 ? "udp"
                    : *m.protocol == 1  ? "icmp"
                                        : "protocol " + std::to_string(*m.protocol));
  }
  for (auto [label, value] : {std::pair{"from", &m.source_network},
                              {"to", &m.destination_network},
                              {"from", &m.source_dnsname},
                              {"to", &m.destination_dnsname}}) {
    if (!value->empty()) {
      parts.push_back(std::string(label) + " " + *value);
    }
  }
  const mud::MudAbstractions& a = m.mud;
  if (!a.manufacturer.empty()) {
    parts.push_back("manufacturer " + a.manufacturer);
  }
  if (a.same_manufacturer) {
    parts.emplace_back("same-manufacturer");
  }
  if (!a.model.empty()) {
    parts.push_back("model " + a.model);
  }
  if (a.local_networks) {
    parts.emplace_back("local-networks");
  }
  if (!a.controller.empty()) {
    parts.push_back("controller " + a.controller);
  }
  if (a.my_controller) {
    parts.emplace_back("my-controller");
  }
  if (m.source_port) {
    parts.push_back("source port " + PortText(*m.source_port));
  }
  if (m.destination_port) {
    parts.push_back("destination port " + PortText(*m.destination_port));
  }
  if (m.icmp_type) {
    parts.push_back("icmp type " + std::to_string(*m.icmp_type));
  }
  if (m.icmp_code) {
    parts.push_back("icmp code " + std::to_string(*m.icmp_code));
  }
  if (m.direction_initiated) {
    parts.push_back(*m.direction_initiated == mud::Direction::kFromDevice
                        ? "connections the device opens"
                        : "connections opened to the device");
  }
  if (m.ethertype || !m.source_mac.empty() || !m.destination_mac.empty()) {
    parts.emplace_back("ethernet fields");
  }
  std::string text;
  for (const std::string& part : parts) {
    text += (text.empty() ? "" : ", ") + part;
  }
  return text.empty() ? "everything" : text;
}

constexpr std::string_view kProbeDevice = "device";
constexpr std::string_view kProbeAddress = "192.0.2.1";

}  // namespace

std::string HintFor(std::string_view error) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 15> kHints = {{
      {"unsupported member",
       "Concierge refuses a member it cannot enforce inside an ACL, an entry or its actions; "
       "remove it, or declare an extension and put it in the ietf-mud:mud container"},
      {"must be an https URL", "MUD URLs use https (RFC 8520 §1.5)"},
      {"expected 0..65535", "ports are 0 to 65535"},
      {"is defined twice", "give each ACL its own name"},
      {"which the file does not define",
       "define that ACL under ietf-access-control-list:acls, or name one that is defined"},
      {"mud-version: missing", "add \"mud-version\": 1 to the ietf-mud:mud container"},
      {"last-update", "write last-update as an RFC 3339 date-time, e.g. 2026-12-01T00:00:00Z"},
      {"cache-validity", "cache-validity is in hours, 1 to 168"},
      {"is-supported", "is-supported must be true or false"},
      {"expected a list", "YANG lists are JSON arrays, even with one element"},
      {"does not verify",
       "the file changed after it was signed, or the signature is another file's: sign these "
       "exact bytes again (concierge maker mud-sign)"},
      {"does not chain", "--ca must be the CA that issued the MUD signer's certificate"},
      {"is not bound to",
       "the signer's certificate must name the MUD URL's host in its "
       "subjectAltName, so that one maker cannot sign for another"},
      {"expired", "renew the signer's certificate and sign again"},
      {"does not fit the ACL's type", "an ipv4-acl-type holds ipv4 matches, an ipv6-acl-type ipv6"},
  }};
  for (const auto& [marker, hint] : kHints) {
    if (error.find(marker) != std::string_view::npos) {
      return std::string(hint);
    }
  }
  return "see docs/mud.md for what Concierge accepts";
}

MudCheckReport CheckMudFile(std::string_view body, const std::optional<SignatureToCheck>& signature,
                            SystemTime now) {
  MudCheckReport report;
  auto refuse = [](const Error& error) {
    return Refusal{error.message(), HintFor(error.message())};
  };
  auto parsed = mud::ParseMudJson(body);
  if (!parsed) {
    report.refused = refuse(parsed.error());
    return report;
  }
  report.mud_url = parsed->mud_url;
  report.warnings = parsed->warnings;
  mud::SiteFacts facts;
  facts.devices.push_back(
      {std::string(kProbeDevice), parsed->mud_url, {std::string(kProbeAddress)}});
  std::vector<mud::MudFile> files{*parsed};
  auto policy = mud::CompilePolicy(files, facts, {});
  if (!policy) {
    report.refused = refuse(policy.error());
    return report;
  }
  const mud::Profile& profile = policy->profiles.front();
  report.notes = profile.notes;
  for (auto [direction, names] : {std::pair{"from-device", &parsed->from_device_acls},
                                  std::pair{"to-device", &parsed->to_device_acls}}) {
    for (const std::string& acl_name : *names) {
      const mud::Acl* acl = parsed->FindAcl(acl_name);
      for (const mud::Ace& ace : acl->aces) {
        CheckedEntry entry{acl->name,
                           ace.name,
                           direction,
                           std::string(ActionName(ace.action)),
                           Describe(ace.matches),
                           {}};
        std::string origin = acl->name + "/" + ace.name;
        for (const mud::Chain* chain : {&profile.from_device_v4, &profile.to_device_v4,
                                        &profile.from_device_v6, &profile.to_device_v6}) {
          IpFamily family = chain == &profile.from_device_v4 || chain == &profile.to_device_v4
                                ? IpFamily::kIpv4
                                : IpFamily::kIpv6;
          for (const mud::Rule& rule : chain->rules) {
            if (rule.origin == origin) {
              entry.rules.push_back(chain->name + ": " + RenderRule(rule, family));
            }
          }
        }
        report.entries.push_back(std::move(entry));
      }
    }
  }
  if (signature) {
    mud::SignatureCheck check{signature->anchors, now,
                              signature->trust_expired_signers
                                  ? mud::ExpiredSignerPolicy::kTrustSigningTime
                                  : mud::ExpiredSignerPolicy::kRefuse};
    auto verified =
        mud::VerifyMudSignature(AsBytes(body), signature->signature, parsed->mud_url, check);
    if (verified) {
      report.signer = verified->signer.SubjectText();
    } else {
      report.signature_refused = refuse(verified.error());
    }
  }
  return report;
}

}  // namespace concierge::firewall
