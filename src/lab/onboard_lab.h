#pragma once

#include <functional>
#include <string>

#include "common/json.h"
#include "lab/crypto_rates.h"

namespace concierge::lab {

struct OnboardOptions {
  int devices = 100;
  int concurrency = 64;  // pledges in flight at once
  int registrar_workers = 64;
  int masa_workers = 32;
  std::string via = "https";                          // the pledges' transport; the only one so far
  std::function<void(int done, int total)> progress;  // called from pledge threads
};

struct OnboardReport {
  int devices = 0;
  int enrolled = 0;
  int failed = 0;
  double seconds = 0;
  double enrollments_per_s = 0;
  double crypto_bound_per_s = 0;
  double ratio = 0;
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  double peak_rss_mb = 0;
  unsigned cores = 0;
  CryptoRates rates;
  std::string first_error;

  Json ToJson() const;
  std::string ToText() const;
};

// RunOnboardLab starts a maker's MASA and a site's registrar in this process, each on its own
// TLS port on 127.0.0.1 (port 0), mints options.devices IDevIDs, then enrolls them all through
// real TLS sockets with options.concurrency pledges in flight, and compares the rate with the
// crypto bound measured on this machine. State lives in a temporary directory removed after.
Result<OnboardReport> RunOnboardLab(const OnboardOptions& options);

}  // namespace concierge::lab
