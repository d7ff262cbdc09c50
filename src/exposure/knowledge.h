#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace concierge::exposure {

// Threat is one entry of a threat catalogue (the project's JSON form of what INXU's MTD
// files say): a way in (an exploit of a weakness on some ports) or a botnet's operating
// traffic (C&C, report, loader) that no device should send.
struct Threat {
  enum class Kind { kExploit, kOperation };
  std::string name;
  Kind kind = Kind::kExploit;
  uint8_t protocol = 6;
  std::vector<uint16_t> ports;
  std::string weakness;            // kExploit: the device property that makes the port exploitable
  std::vector<std::string> peers;  // kOperation: the addresses it goes to; empty: anywhere
  int weight = 1;
  std::string explanation;
};

struct ThreatCatalogue {
  std::vector<Threat> threats;
};

// ParseThreatCatalogue reads
//   {"threats": [{"name": N, "kind": "exploit"|"operation", "protocol": "tcp"|"udp",
//                 "ports": [P...], "weakness": W, "peers": [ADDR...], "weight": 1..100,
//                 "explanation": TEXT}]}
// Errors are kBadFormat and name the JSON path.
Result<ThreatCatalogue> ParseThreatCatalogue(std::string_view json);

// Advisory is a vulnerability in OSV form (https://ossf.github.io/osv-schema/), reduced to
// what matching needs.
struct Advisory {
  std::string id;
  std::string summary;

  struct Affected {
    std::string package;                // compared without case
    std::vector<std::string> versions;  // listed versions

    struct Range {
      std::string introduced;  // "0" for all earlier versions
      std::string fixed;       // "" when not fixed
      std::string last_affected;
    };

    std::vector<Range> ranges;  // ECOSYSTEM and SEMVER ranges
  };

  std::vector<Affected> affected;
  int weight = 5;  // from the CVSS base score when one is given, else 5

  // Affects tells whether package at version is vulnerable.
  bool Affects(std::string_view package, std::string_view version) const;
};

// ParseOsvAdvisory reads one OSV record; ParseOsvAdvisories also reads a JSON array of them.
Result<Advisory> ParseOsvAdvisory(std::string_view json);
Result<std::vector<Advisory>> ParseOsvAdvisories(std::string_view json);

// CompareVersions orders dotted versions numerically part by part ("1.10" > "1.9"), comparing
// non-numeric parts as text; a missing part counts as 0.
int CompareVersions(std::string_view a, std::string_view b);

}  // namespace concierge::exposure
