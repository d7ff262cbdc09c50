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

// MakeHttpsFetcher fetches https:// URLs, authenticating servers against the system trust
// store plus extra_anchors.
Result<std::unique_ptr<Fetcher>> MakeHttpsFetcher(
    const std::vector<crypto::Certificate>& extra_anchors, std::chrono::milliseconds timeout);

}  // namespace concierge::mud
