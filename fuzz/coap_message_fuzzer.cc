// Property: any datagram given to the server's reading of a request (libcoap's parser, then
// the method, path, query, Uri-Path-Abbrev, content-format and Accept it takes from it) never
// crashes; the path it resolves is the request's own or one the resources serve; and the link
// format a query filters is always a subset of the unfiltered one.
#include "coap/request_head.h"
#include "fuzz/fuzz_check.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<coap::Resource> resources = {
      {"/.well-known/brski/rv", "POST", nullptr, "rt=brski.rv;ct=836", 402},
      {"/.well-known/est/crts", "GET", nullptr, "rt=ace.est.crts;ct=\"62 281 287\"", 301},
      {"/.well-known/est/sen", "POST", nullptr, "rt=ace.est.sen;ct=\"281 287\"", 302},
  };
  auto head = coap::ParseDatagram(ByteSpan(data, size));
  if (!head) {
    return 0;
  }
  auto path = coap::ResolvePath(*head, resources);
  if (path) {
    bool known = *path == head->path || *path == "/.well-known/core";
    for (const auto& resource : resources) {
      known = known || resource.path == *path;
    }
    FUZZ_CHECK(known);
  } else {
    FUZZ_CHECK(head->abbreviation.has_value());
  }
  std::string all = coap::LinkFormat(resources, "");
  std::string filtered = coap::LinkFormat(resources, head->query);
  FUZZ_CHECK(filtered.size() <= all.size());
  return 0;
}
