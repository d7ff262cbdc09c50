#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace concierge {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

// IsIpLiteral tells whether host is an IPv4 or IPv6 address rather than a name.
bool IsIpLiteral(const std::string& host);

// ParseHostPort reads "host:port", "[v6]:port" (port may be 0 for listening).
Result<HostPort> ParseHostPort(std::string_view text);

struct Url {
  std::string host;
  uint16_t port = 443;
  std::string path;  // starts with "/"
  std::string Authority() const;
};

// ParseHttpsUrl reads "https://host[:port][/path]".
Result<Url> ParseHttpsUrl(std::string_view text);

}  // namespace concierge
