#pragma once

#include <string_view>

#include "mud/compiler.h"

namespace concierge::mud {

// SiteFactsFile is a site described in one JSON document, for previewing a policy offline
// and for tests:
//   {"local-networks": [CIDR...], "controllers": {CLASS: [ADDR...]},
//    "my-controllers": {MUD-URL: [ADDR...]}, "dns": {NAME: [ADDR...]},
//    "devices": [{"name": N, "mud-url": U, "addresses": [ADDR...]}]}
struct SiteFactsFile {
  SiteFacts facts;
  ResolvedNames names;
};

// ParseSiteFactsJson reads that document; errors name the JSON path (kBadFormat).
Result<SiteFactsFile> ParseSiteFactsJson(std::string_view json);

}  // namespace concierge::mud
