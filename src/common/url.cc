#include "common/url.h"

#include <arpa/inet.h>

#include <charconv>

namespace concierge {

bool IsIpLiteral(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

Result<HostPort> ParseHostPort(std::string_view text) {
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return MakeError(ErrorCode::kInvalidArgument,
                       "address \"" + std::string(text) + "\": expected [v6]:port");
    }
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "address \"" + std::string(text) + "\": expected host:port");
    }
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 ||
      out.host.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "address \"" + std::string(text) + "\": bad host or port");
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

std::string Url::Authority() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Url> ParseHttpsUrl(std::string_view text) {
  constexpr std::string_view kScheme = "https://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "URL \"" + std::string(text) + "\": only https:// is supported");
  }
  std::string_view rest = text.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  Url url;
  url.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  bool has_port = authority.rfind(':') != std::string_view::npos &&
                  (authority.front() != '[' || authority.rfind(']') < authority.rfind(':'));
  if (has_port) {
    ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(authority));
    url.host = hp.host;
    url.port = hp.port;
  } else {
    url.host = std::string(authority);
    if (url.host.size() > 2 && url.host.front() == '[') {
      url.host = url.host.substr(1, url.host.size() - 2);
    }
  }
  if (url.host.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "URL \"" + std::string(text) + "\": no host");
  }
  return url;
}

}  // namespace concierge
