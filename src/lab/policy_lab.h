#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/json.h"
#include "firewall/nft_ruleset.h"
#include "mud/mud_file.h"

namespace concierge::lab {

struct PolicyLabOptions {
  int devices = 1000;
  std::filesystem::path mud_dir;  // the profiles to repeat (every *.json in it)
  firewall::Dispatch dispatch = firewall::Dispatch::kAddressMap;
  bool apply = false;  // through libnftables, in this process's network namespace
  // With both set, one more device, "zz-bench-client" (last in every list), may reach the
  // server's port 5201 over TCP and UDP (iperf3): the flow the throughput benchmark sends
  // through the router.
  std::string client;
  std::string server;
};

struct PolicyLabReport {
  int devices = 0;
  size_t profiles = 0;
  size_t aces = 0;
  size_t rules = 0;
  size_t set_elements = 0;
  size_t ruleset_bytes = 0;
  double parse_ms = 0;
  double compile_ms = 0;
  double render_ms = 0;
  double apply_ms = 0;    // 0 without apply
  double reapply_ms = 0;  // the same ruleset again, replacing the table just loaded
  double peak_rss_mb = 0;

  Json ToJson() const;
  std::string ToText() const;
};

// Helpers the labs share: an IPv4 literal; two stable made-up addresses for a DNS name (in
// the benchmarking range 198.18.0.0/15); this process's peak resident memory; every MUD file
// (*.json) in a directory, parsed, in name order.
std::string Ipv4(uint32_t value);
std::vector<std::string> SyntheticAddresses(const std::string& name);
double PeakRssMb();
Result<std::vector<mud::MudFile>> LoadMudDir(const std::filesystem::path& dir);

// DefaultMudDir is the UNSW profiles beside a checkout (../shared/testdata/mud/unsw-mudgee-28).
std::filesystem::path DefaultMudDir();

// RunPolicyLab builds a site of N devices, device i under profile i mod P with address
// 10.0.0.0/8 + 256 + i, controllers for the gateway and DNS classes, and two made-up
// addresses (in 198.18.0.0/15) for every DNS name; then times compile, render and apply.
Result<PolicyLabReport> RunPolicyLab(const PolicyLabOptions& options);

}  // namespace concierge::lab
