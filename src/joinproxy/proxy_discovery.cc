#include "joinproxy/proxy_discovery.h"

#include <string>

#include "coap/coaps_server.h"
#include "coap/request_head.h"

namespace concierge::joinproxy {

std::optional<Bytes> AnswerDiscovery(ByteSpan request, uint16_t join_port) {
  auto head = coap::ParseDatagram(request);
  if (!head || head->method != "GET") {
    return std::nullopt;
  }
  std::vector<coap::Resource> links = {
      {"", "", nullptr, "brski-jp=" + std::to_string(join_port), std::nullopt}};
  auto path = coap::ResolvePath(*head, links);
  if (!path || *path != "/.well-known/core") {
    return std::nullopt;
  }
  std::string text = coap::LinkFormat(links, head->query);
  if (text.empty()) {
    return std::nullopt;  // a query that matches nothing is not answered (RFC 6690 §4.1)
  }
  constexpr uint8_t kCon = 0;
  constexpr uint8_t kNon = 1;
  constexpr uint8_t kAck = 2;
  uint8_t type = (request[0] >> 4) & 0x03;
  size_t token_length = request[0] & 0x0f;
  if (type != kCon && type != kNon) {
    return std::nullopt;
  }
  Bytes answer;
  answer.reserve(4 + token_length + 3 + text.size());
  answer.push_back(static_cast<uint8_t>(0x40 | ((type == kCon ? kAck : kNon) << 4) | token_length));
  answer.push_back(0x45);  // 2.05 Content
  answer.push_back(request[2]);
  answer.push_back(request[3]);
  for (size_t i = 0; i < token_length; ++i) {
    answer.push_back(request[4 + i]);
  }
  answer.push_back(0xc1);  // Content-Format, one byte:
  answer.push_back(40);    // application/link-format
  answer.push_back(0xff);
  answer.insert(answer.end(), text.begin(), text.end());
  if (answer.size() > request.size()) {
    return std::nullopt;
  }
  return answer;
}

}  // namespace concierge::joinproxy
