#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/json.h"
#include "exposure/analyzer.h"
#include "exposure/mirai_sim.h"

namespace concierge::lab {

// ModelSite is a made-up site of N devices from repeated MUD profiles: device i under profile
// i mod P; up to 150 devices on 192.168.5.100.. (the INXU experiment's LAN), more on 10/8;
// the gateway (.1) is the edge, the DNS and gateway controller; every DNS name gets made-up
// addresses. `vulnerable` of the devices (spread evenly) have factory telnet credentials.
struct ModelSite {
  std::vector<mud::MudFile> files;
  mud::Policy faithful;
  exposure::SiteModel model;  // over `faithful`; the threats from the catalogue given
  IpNetwork edge;
  uint64_t lan_addresses = 0;
};

struct ModelSiteOptions {
  int devices = 112;
  double vulnerable = 1.0;
  std::filesystem::path mud_dir;
  std::filesystem::path threats;  // a threat catalogue (JSON)
};

Result<std::unique_ptr<ModelSite>> BuildModelSite(const ModelSiteOptions& options);

// DefaultDataDir is the project's data/ directory (threat catalogues, credential list).
std::filesystem::path DefaultDataDir();

struct MiraiLabOptions {
  ModelSiteOptions site;
  std::vector<std::string> modes = {"none", "mud", "mud-stateless", "mud-relaxed", "analyzer"};
  int runs = 10;
  uint64_t seed = 1;  // run r uses seed + r
  exposure::MiraiParameters parameters;
  std::filesystem::path credentials;
};

struct Interval {
  double mean = 0;
  double low = 0;
  double high = 0;
};

struct MiraiLabMode {
  std::string mode;
  int devices = 0;
  int runs = 0;
  Interval bots_with_cnc, new_infections, hosts_scanned, ddos_generated, ddos_transmitted;
  size_t legit_flows_total = 0;
  size_t legit_flows_blocked = 0;
  size_t blocks = 0;  // analyzer mode: drop rules laid over the policy
  double simulated_device_minutes_per_second = 0;
  uint64_t events = 0;
};

// RunMiraiLab simulates the botnet `runs` times under each mode: none (no policy), mud (the
// faithful compile, direction-initiated enforced through conntrack), mud-stateless (exact
// ports, either side may open, as a switch without connection tracking enforces MUD),
// mud-relaxed (every port widened to any as well, as the INXU experiment's graph export did)
// and analyzer (the analyzer's blocks over mud-relaxed).
Result<std::vector<MiraiLabMode>> RunMiraiLab(const MiraiLabOptions& options);

Json MiraiLabJson(const std::vector<MiraiLabMode>& modes);
std::string MiraiLabText(const std::vector<MiraiLabMode>& modes, const MiraiLabOptions& options);

struct ExposureLabReport {
  int devices = 0;
  size_t vulnerable = 0;
  double compile_ms = 0;
  double analysis_ms = 0;
  double tightening_ms = 0;
  size_t nodes = 0, edges = 0, exposures = 0, leaks = 0, paths = 0;
  size_t blocks = 0, block_addresses = 0;
  size_t legit_flows_total = 0, legit_flows_blocked = 0, exposures_left = 0;
  double peak_rss_mb = 0;

  Json ToJson() const;
  std::string ToText() const;
};

// RunExposureLab times analysis and tightening of a lab site.
Result<ExposureLabReport> RunExposureLab(const ModelSiteOptions& options);

}  // namespace concierge::lab
