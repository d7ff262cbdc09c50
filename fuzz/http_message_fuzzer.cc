// Properties: a request that parses, serialised again, keeps its body; the parser never reads
// past its limits; and bytes fed in pieces (as they arrive from a socket, the parser holding a
// header until it is whole) give the same request, ending at the same byte, as fed at once.
#include <algorithm>

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
  if (used && parser.Complete() && size > 1) {
    // Piece sizes from 1 up, chosen by the first byte, so one input tries one way of cutting.
    size_t piece = 1 + data[0] % 17;
    http::MessageParser pieces(http::MessageParser::Kind::kRequest, limits);
    size_t offset = 0;
    while (!pieces.Complete() && offset < size) {
      auto taken =
          pieces.Feed(reinterpret_cast<const char*>(data) + offset, std::min(piece, size - offset));
      FUZZ_CHECK(taken.has_value());
      offset += *taken;
      if (*taken < piece && !pieces.Complete()) {
        break;
      }
    }
    FUZZ_CHECK(pieces.Complete());
    FUZZ_CHECK(offset == *used);
    http::MessageParser whole(http::MessageParser::Kind::kRequest, limits);
    (void)whole.Feed(reinterpret_cast<const char*>(data), size);
    http::HttpRequest at_once = whole.TakeRequest();
    http::HttpRequest in_pieces = pieces.TakeRequest();
    FUZZ_CHECK(in_pieces.method == at_once.method && in_pieces.target == at_once.target &&
               in_pieces.headers == at_once.headers && in_pieces.body == at_once.body &&
               in_pieces.keep_alive == at_once.keep_alive);
  }
  http::MessageParser response_parser(http::MessageParser::Kind::kResponse, limits);
  (void)response_parser.Feed(reinterpret_cast<const char*>(data), size);
  return 0;
}
