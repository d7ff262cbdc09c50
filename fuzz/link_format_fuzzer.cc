// Property: any discovery answer (CoRE link format, as a join proxy or a pledge receives it
// from a stranger) is parsed without crashing and within the limits; what parses, rendered
// again, parses to the same links.
#include <string>

#include "coap/link_format.h"
#include "fuzz/fuzz_check.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto links = coap::ParseLinkFormat(text);
  if (!links) {
    return 0;
  }
  FUZZ_CHECK(links->size() <= coap::kMaxLinks);
  std::string rendered;
  for (const coap::Link& link : *links) {
    rendered += (rendered.empty() ? "<" : ",<") + link.target + ">";
    for (const auto& [name, value] : link.attributes) {
      // A value read from quotes holds no '"'; one read bare holds no ';' or ','.
      bool quoted = value.find('"') == std::string::npos;
      rendered += ";" + name + "=" + (quoted ? "\"" + value + "\"" : value);
    }
  }
  if (rendered.size() <= coap::kMaxLinkFormatBytes) {
    auto again = coap::ParseLinkFormat(rendered);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->size() == links->size());
    for (size_t i = 0; i < links->size(); ++i) {
      FUZZ_CHECK((*again)[i].target == (*links)[i].target);
      FUZZ_CHECK((*again)[i].attributes == (*links)[i].attributes);
    }
  }
  return 0;
}
