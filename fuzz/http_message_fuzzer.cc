// Property: a request that parses, serialised as a response body carrier, keeps its body; the
// parser never reads past its limits.
#include "fuzz/fuzz_check.h"
#include "http/http_message.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::ParserLimits limits{.max_header_bytes = 4096, .max_body_bytes = 4096};
  http::MessageParser parser(http::MessageParser::Kind::kRequest, limits);
  auto used = parser.Feed(reinterpret_cast<const char*>(data), size);
  if (used) {
    FUZZ_CHECK(*used <= size);
  }
  if (used && parser.Complete()) {
    http::HttpRequest request = parser.TakeRequest();
    FUZZ_CHECK(request.body.size() <= limits.max_body_bytes);
    std::string wire = http::SerializeRequest(request, "h");
    http::MessageParser again(http::MessageParser::Kind::kRequest, {});
    auto reparsed = again.Feed(wire.data(), wire.size());
    if (reparsed && again.Complete()) {
      FUZZ_CHECK(again.TakeRequest().body == request.body);
    }
  }
  http::MessageParser response_parser(http::MessageParser::Kind::kResponse, limits);
  (void)response_parser.Feed(reinterpret_cast<const char*>(data), size);
  return 0;
}
