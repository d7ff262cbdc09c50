#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "crypto/certificate.h"

namespace concierge::mud {

// Fetcher gets a MUD file or its signature by URL.
class Fetcher {
 public:
  virtual ~Fetcher() = default;
  // Fetch returns the body of a 200 answer; kTooLarge past max_bytes, kUnavailable when the
  // server cannot be reached or answers otherwise.
  virtual Result<std::string> Fetch(const std::string& url, size_t max_bytes) = 0;
};

}  // namespace concierge::mud
