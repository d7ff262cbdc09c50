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
  std::string via = "https";  // https, coaps, joinproxy or joinproxy-stateful
  // Where the site keeps its records: "" for an SQLite file, or a PostgreSQL URI (the lab
  // makes a schema of its own there and drops it after).
  std::string database;
  int controllers = 1;  // site controllers sharing the site's records; pledges spread over them
  // Instead of a site and a maker of the lab's own: site controllers already running
  // (HOST:PORT each) and the directory of the maker whose running MASA (masa_url, if it is not
  // the one maker.json names) they reach. A pledge whose controller fails it tries the next
  // one, up to attempts times, as a device behind one name would.
  std::vector<std::string> registrars;
  std::string maker_dir;
  std::string masa_url;
  int attempts = 10;
  std::function<void(int done, int total)> progress;  // called from pledge threads
};

struct OnboardReport {
  int devices = 0;
  int enrolled = 0;
  int failed = 0;
  int retries = 0;  // pledges sent to another controller (running controllers only)
  // The longest time between two enrollments completing: a stall, or a failover's pause.
  double longest_gap_ms = 0;
  double seconds = 0;
  double enrollments_per_s = 0;
  double crypto_bound_per_s = 0;
  double ratio = 0;
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  double peak_rss_mb = 0;
  unsigned cores = 0;
  int controllers = 1;
  std::string database;             // "sqlite", "postgresql", or "already running" (--registrar)
  double database_mb_per_100k = 0;  // the site's records, scaled to 100,000 devices
  std::string via = "https";
  // Bytes the loopback interface carried while the pledges ran, per enrollment: both legs
  // (pledge to registrar, registrar to MASA), headers included. 0 when it cannot be read.
  double loopback_bytes_per_enrollment = 0;
  CryptoRates rates;
  std::string first_error;

  Json ToJson() const;
  std::string ToText() const;
};

// RunOnboardLab starts a maker's MASA and a site's registrar in this process, each on its own
// TLS port on 127.0.0.1 (port 0), mints options.devices IDevIDs, then enrolls them all through
// real TLS sockets with options.concurrency pledges in flight, and compares the rate with the
// crypto bound measured on this machine. With several controllers, each has its own runtime,
// database connections and port, and pledge i goes to controller i mod N. State lives in a
// temporary directory removed after.
Result<OnboardReport> RunOnboardLab(const OnboardOptions& options);

}  // namespace concierge::lab
