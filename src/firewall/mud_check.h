#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "crypto/certificate.h"
#include "mud/mud_file.h"

namespace concierge::firewall {

// What a maker (or an operator before trusting a maker) learns from `concierge mud check`:
// does a MUD file parse, would a site enforce it, what would each entry become, and does its
// signature hold, with no site at all.

struct SignatureToCheck {
  Bytes signature;                           // detached CMS (DER)
  std::vector<crypto::Certificate> anchors;  // the maker's MUD signing CA
  bool trust_expired_signers = false;        // as `mud load --trust-expired-signers`
};

struct CheckedEntry {
  std::string acl;
  std::string name;
  std::string direction;           // "from-device" or "to-device"
  std::string action;              // "accept", "drop" or "reject"
  std::string matches;             // what the entry matches, in words
  std::vector<std::string> rules;  // the nftables rules it compiles to
};

// A refusal names the JSON path (or the check) and what is wrong, and says what to do.
struct Refusal {
  std::string error;
  std::string hint;
};

struct MudCheckReport {
  std::string mud_url;
  std::optional<Refusal> refused;     // parse or compile
  std::vector<std::string> warnings;  // what the parser ignored or left out
  std::vector<std::string> notes;     // what the compiled policy does not enforce, and why
  std::vector<CheckedEntry> entries;  // in policy order
  std::optional<std::string> signer;  // subject of a signer that verified
  std::optional<Refusal> signature_refused;

  bool ok() const { return !refused && !signature_refused; }
};

// CheckMudFile parses and compiles `body` for one device with no site facts (abstractions
// compile to empty sets, so what they would allow is named but matches nothing), then, when
// given, verifies its detached signature as a site would.
MudCheckReport CheckMudFile(std::string_view body, const std::optional<SignatureToCheck>& signature,
                            SystemTime now);

// HintFor says what to do about a refusal, from its message.
std::string HintFor(std::string_view error);

}  // namespace concierge::firewall
