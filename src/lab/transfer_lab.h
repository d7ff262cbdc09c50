#pragma once

#include <functional>
#include <string>

#include "common/json.h"

namespace concierge::lab {

struct TransferOptions {
  int devices = 100;
  int concurrency = 8;  // devices moving at once
  int workers = 32;     // per server
  std::function<void(std::string_view phase, int done, int total)> progress;
};

struct TransferReport {
  int devices = 0;
  int moved = 0;
  int failed = 0;
  double onboard_seconds = 0;  // getting the devices onto the old site first (not the figure)
  double export_seconds = 0;
  double import_seconds = 0;
  double move_seconds = 0;
  double seconds = 0;  // export + import + every device moved
  double devices_per_s = 0;
  double move_p50_ms = 0;
  double move_p99_ms = 0;
  // Per device: how long it had no credential either domain accepted. New credentials count
  // as working from their proof at the new site; old ones as refused from the moment the old
  // site is told of the move (the earliest it can revoke them).
  double longest_gap_ms = 0;
  int old_credentials_refused = 0;  // after the run, checked against the old site
  int new_credentials_working = 0;  // after the run, checked against the new site
  int old_site_crl_entries = 0;
  std::string first_error;

  Json ToJson() const;
  std::string ToText() const;
};

// RunTransferLab starts a maker's MASA and two site controllers in this process over real TLS
// on 127.0.0.1, onboards options.devices devices at the old site, exports them all to the new
// site, imports the bundle there, and lets every device check in and move, measuring each step.
Result<TransferReport> RunTransferLab(const TransferOptions& options);

}  // namespace concierge::lab
