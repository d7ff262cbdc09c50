// Property: any multicast DNS message (a query a responder receives, or an answer a browser
// receives, from anyone on the link) is read without crashing; an answer the responder makes
// is within the size limit and reads back as a response. The first byte chooses: even, the
// rest is an answer to browse; odd, a query to answer (legacy unicast if bit 1 is set).
#include <string>
#include <vector>

#include "dnssd/mdns_message.h"
#include "fuzz/fuzz_check.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  ByteSpan message(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    auto offers = dnssd::ParseAnswer(message, dnssd::kJoinProxyService);
    if (offers) {
      for (const dnssd::Offer& offer : *offers) {
        FUZZ_CHECK(offer.port != 0);
      }
    }
    return 0;
  }
  std::vector<dnssd::Service> services = {
      {.type = dnssd::kJoinProxyService,
       .instance = "gateway",
       .host = "gateway",
       .port = 5684,
       .addresses = {"fe80::1%lo", "2001:db8::1", "192.0.2.1"}},
      {.type = dnssd::kRegistrarJpyService, .instance = "plant", .host = "gateway", .port = 5685}};
  auto answer = dnssd::AnswerQuery(message, services, (data[0] & 2) != 0);
  if (answer) {
    FUZZ_CHECK(answer->size() <= dnssd::kMaxMdnsMessage);
    FUZZ_CHECK(dnssd::ParseAnswer(*answer, dnssd::kJoinProxyService).has_value());
  }
  return 0;
}
