#include "lab/policy_lab.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "common/data_dir.h"
#include "common/files.h"
#include "crypto/key.h"
#include "firewall/firewall.h"
#include "mud/compiler.h"
#include "mud/mud_parser.h"

namespace concierge::lab {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string BenchClientFile(const std::string& server) {
  return R"({"ietf-mud:mud": {"mud-version": 1, "mud-url": "https://bench.invalid/client.json",
    "last-update": "2026-11-22T00:00:00+00:00", "is-supported": true, "systeminfo": "bench client",
    "from-device-policy": {"access-lists": {"access-list": [{"name": "out"}]}},
    "to-device-policy": {"access-lists": {"access-list": [{"name": "in"}]}}},
   "ietf-access-control-list:acls": {"acl": [
    {"name": "out", "type": "ipv4-acl-type", "aces": {"ace": [{"name": "iperf", "matches": {
      "ipv4": {"protocol": 6, "destination-ipv4-network": ")" +
         server + R"(/32"},
      "tcp": {"destination-port": {"operator": "eq", "port": 5201}}},
      "actions": {"forwarding": "accept"}},
     {"name": "iperf-udp", "matches": {
      "ipv4": {"protocol": 17, "destination-ipv4-network": ")" +
         server + R"(/32"},
      "udp": {"destination-port": {"operator": "eq", "port": 5201}}},
      "actions": {"forwarding": "accept"}}]}},
    {"name": "in", "type": "ipv4-acl-type", "aces": {"ace": [{"name": "iperf", "matches": {
      "ipv4": {"protocol": 6, "source-ipv4-network": ")" +
         server + R"(/32"},
      "tcp": {"source-port": {"operator": "eq", "port": 5201}}},
      "actions": {"forwarding": "accept"}},
     {"name": "iperf-udp", "matches": {
      "ipv4": {"protocol": 17, "source-ipv4-network": ")" +
         server + R"(/32"},
      "udp": {"source-port": {"operator": "eq", "port": 5201}}},
      "actions": {"forwarding": "accept"}}]}}]}})";
}

}  // namespace

std::string Ipv4(uint32_t value) {
  return std::to_string(value >> 24) + "." + std::to_string((value >> 16) & 255) + "." +
         std::to_string((value >> 8) & 255) + "." + std::to_string(value & 255);
}

std::vector<std::string> SyntheticAddresses(const std::string& name) {
  Bytes digest = crypto::Sha256(ToBytes(name));
  uint32_t base = (198U << 24) | (18U << 16);
  uint32_t offset = ((uint32_t{digest[0]} << 8) | digest[1]) << 1;
  return {Ipv4(base + offset), Ipv4(base + offset + 1)};
}

double PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

Result<std::vector<mud::MudFile>> LoadMudDir(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> paths;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".json") {
      paths.push_back(entry.path());
    }
  }
  if (ec || paths.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "no MUD files (*.json) in " + dir.string() + (ec ? ": " + ec.message() : ""));
  }
  std::ranges::sort(paths);
  std::vector<mud::MudFile> files;
  for (const auto& path : paths) {
    ASSIGN_OR_RETURN(std::string body, ReadFile(path));
    ASSIGN_OR_RETURN_CTX(mud::MudFile file, mud::ParseMudJson(body), path.string());
    files.push_back(std::move(file));
  }
  return files;
}

std::filesystem::path DefaultMudDir() {
  // The published UNSW profiles, which the lab's figures use, are others' data: a checkout
  // finds them beside it (../shared/testdata), and a package ships the project's own three.
  std::error_code ec;
  if (std::filesystem::exists(CONCIERGE_DEFAULT_MUD_DIR, ec)) {
    return CONCIERGE_DEFAULT_MUD_DIR;
  }
  return DataDir() / "mud";
}

Json PolicyLabReport::ToJson() const {
  return Json{{"devices", devices},
              {"profiles", profiles},
              {"aces", aces},
              {"rules", rules},
              {"set_elements", set_elements},
              {"ruleset_bytes", ruleset_bytes},
              {"parse_ms", parse_ms},
              {"compile_ms", compile_ms},
              {"render_ms", render_ms},
              {"apply_ms", apply_ms},
              {"reapply_ms", reapply_ms},
              {"total_ms", compile_ms + render_ms + apply_ms},
              {"peak_rss_mb", peak_rss_mb}};
}

std::string PolicyLabReport::ToText() const {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << "devices         " << devices << " (" << profiles << " MUD files, " << aces
      << " access-control entries)\n"
      << "rules           " << rules << ", set elements " << set_elements << ", ruleset "
      << ruleset_bytes / 1024 << " KiB\n"
      << "parse           " << parse_ms << " ms (once per file)\n"
      << "compile         " << compile_ms << " ms\n"
      << "render          " << render_ms << " ms\n";
  if (apply_ms > 0) {
    out << "apply           " << apply_ms << " ms (one libnftables transaction)\n"
        << "reapply         " << reapply_ms << " ms\n";
  }
  out << "compile+render+apply " << compile_ms + render_ms + apply_ms << " ms\n"
      << "peak RSS        " << peak_rss_mb << " MB";
  return out.str();
}

Result<PolicyLabReport> RunPolicyLab(const PolicyLabOptions& options) {
  if (options.devices < 1 || options.devices > 1000000) {
    return MakeError(ErrorCode::kInvalidArgument, "--devices must be 1..1000000");
  }
  PolicyLabReport report;
  report.devices = options.devices;
  auto start = Clock::now();
  ASSIGN_OR_RETURN(std::vector<mud::MudFile> files, LoadMudDir(options.mud_dir));
  for (const mud::MudFile& file : files) {
    report.aces += file.AceCount();
  }
  size_t profiles = files.size();
  mud::SiteFacts facts;
  facts.local_networks = {"10.0.0.0/8"};
  facts.controllers["urn:ietf:params:mud:dns"] = {"10.0.0.1"};
  facts.controllers["urn:ietf:params:mud:gateway"] = {"10.0.0.1"};
  for (int i = 0; i < options.devices; ++i) {
    facts.devices.push_back({"device-" + std::to_string(100000 + i),
                             files[static_cast<size_t>(i) % profiles].mud_url,
                             {Ipv4((10U << 24) + 256 + static_cast<uint32_t>(i))}});
  }
  if (!options.client.empty() && !options.server.empty()) {
    ASSIGN_OR_RETURN(mud::MudFile client, mud::ParseMudJson(BenchClientFile(options.server)));
    facts.devices.push_back({"zz-bench-client", client.mud_url, {options.client}});
    files.push_back(std::move(client));
  }
  mud::ResolvedNames names;
  for (const std::string& name : mud::DnsNamesUsed(files)) {
    names[name] = SyntheticAddresses(name);
  }
  report.parse_ms = MsSince(start);

  start = Clock::now();
  ASSIGN_OR_RETURN(mud::Policy policy, mud::CompilePolicy(files, facts, names));
  report.compile_ms = MsSince(start);
  report.profiles = policy.profiles.size();
  report.rules = policy.RuleCount();
  for (const auto& set : policy.sets) {
    report.set_elements += set.elements.size();
  }

  start = Clock::now();
  std::string ruleset = firewall::RenderRuleset(policy, options.dispatch);
  report.render_ms = MsSince(start);
  report.ruleset_bytes = ruleset.size();

  if (options.apply) {
    ASSIGN_OR_RETURN(auto nft, firewall::OpenNftables());
    start = Clock::now();
    RETURN_IF_ERROR(nft->Replace(ruleset));
    report.apply_ms = MsSince(start);
    start = Clock::now();
    RETURN_IF_ERROR(nft->Replace(ruleset));
    report.reapply_ms = MsSince(start);
  }
  report.peak_rss_mb = PeakRssMb();
  return report;
}

}  // namespace concierge::lab
