#include "lab/exposure_lab.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <sstream>

#include "common/data_dir.h"
#include "common/files.h"
#include "lab/policy_lab.h"
#include "mud/compiler.h"

namespace concierge::lab {
namespace {

using Clock = std::chrono::steady_clock;
using exposure::Flood;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

IpNetwork Address(const std::string& text) {
  return IpNetwork::Parse(text).value_or(IpNetwork{});
}

// Two-sided 95 % Student t quantiles for 1..30 degrees of freedom.
double StudentT95(int degrees) {
  static constexpr double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                      2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                      2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                      2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  return degrees >= 1 && degrees <= 30 ? kTable[degrees - 1] : 1.960;
}

Interval Summarize(const std::vector<double>& values) {
  double n = static_cast<double>(values.size());
  double mean = 0;
  for (double value : values) {
    mean += value / n;
  }
  double variance = 0;
  for (double value : values) {
    variance += (value - mean) * (value - mean) / std::max(n - 1, 1.0);
  }
  double half =
      values.size() > 1 ? StudentT95(static_cast<int>(n) - 1) * std::sqrt(variance / n) : 0;
  return {mean, std::max(0.0, mean - half), mean + half};
}

// Floods as the INXU experiment ran them, each aimed at an endpoint some MUD file allows on
// that port when there is one, so that MUD lets part of the flood through.
std::vector<Flood> ChooseFloods(const mud::Policy& policy) {
  struct Vector {
    const char* name;
    uint8_t protocol;
    uint16_t port;
    bool connection;
  };

  static constexpr Vector kVectors[] = {{"udp", 17, 443, false},      {"vse", 17, 27015, false},
                                        {"udpplain", 17, 123, false}, {"syn", 6, 80, false},
                                        {"ack", 6, 11095, false},     {"stomp", 6, 443, true},
                                        {"http", 6, 80, true}};
  std::vector<const mud::AddressSet*> names;
  for (const mud::AddressSet& set : policy.sets) {
    if (set.origin.starts_with("dns ") && !set.elements.empty() && set.family == IpFamily::kIpv4) {
      names.push_back(&set);
    }
  }
  std::vector<Flood> floods;
  std::set<std::string> used;
  for (size_t i = 0; i < std::size(kVectors); ++i) {
    const Vector& vector = kVectors[i];
    const mud::AddressSet* chosen = nullptr;
    for (const mud::Profile& profile : policy.profiles) {
      for (const mud::Rule& rule : profile.from_device_v4.rules) {
        if (chosen == nullptr && rule.protocol == vector.protocol && rule.destination_port &&
            rule.destination_port->lower == vector.port && rule.destination_sets.size() == 1 &&
            rule.destination_sets[0].starts_with("dns_") &&
            !used.contains(rule.destination_sets[0])) {
          auto set = std::ranges::find(names, rule.destination_sets[0], &mud::AddressSet::name);
          chosen = set == names.end() ? nullptr : *set;
        }
      }
    }
    if (chosen == nullptr && !names.empty()) {
      chosen = names[i * names.size() / std::size(kVectors)];
    }
    IpNetwork target = chosen != nullptr ? chosen->elements.front() : Address("203.0.113.80");
    if (chosen != nullptr) {
      used.insert(chosen->name);
    }
    floods.push_back({vector.name, target, vector.protocol, vector.port, vector.connection});
  }
  return floods;
}

struct Published {
  const char* mode;
  const char* row;  // the experiment's row, as it named it
  double values[5];
};

// The INXU experiment, every device seeded as a bot (means of 10 runs). Its one "MUD" row came
// from stateless rules with port ranges widened, so mud-relaxed is the like-for-like comparison;
// the row is shown beside each MUD mode.
constexpr double kPublishedMud[5] = {40.0, 1.1, 1.4, 1342366.9, 8244.8};
constexpr Published kPublished[] = {
    {"none", "none", {111.9, 14.3, 19.7, 2831979.5, 2831979.5}},
    {"mud",
     "MUD",
     {kPublishedMud[0], kPublishedMud[1], kPublishedMud[2], kPublishedMud[3], kPublishedMud[4]}},
    {"mud-stateless",
     "MUD",
     {kPublishedMud[0], kPublishedMud[1], kPublishedMud[2], kPublishedMud[3], kPublishedMud[4]}},
    {"mud-relaxed",
     "MUD",
     {kPublishedMud[0], kPublishedMud[1], kPublishedMud[2], kPublishedMud[3], kPublishedMud[4]}},
    {"analyzer", "INXU", {0, 0, 0, 0, 0}},
};

const Published* PublishedFor(const std::string& mode) {
  auto found = std::ranges::find_if(kPublished, [&](const Published& p) { return mode == p.mode; });
  return found == std::end(kPublished) ? nullptr : &*found;
}

Json IntervalJson(const Interval& interval) {
  return Json{{"mean", interval.mean}, {"low", interval.low}, {"high", interval.high}};
}

}  // namespace

std::filesystem::path DefaultDataDir() {
  return DataDir();
}

Result<std::unique_ptr<ModelSite>> BuildModelSite(const ModelSiteOptions& options) {
  if (options.devices < 1 || options.devices > 1000000) {
    return MakeError(ErrorCode::kInvalidArgument, "--devices must be 1..1000000");
  }
  if (options.vulnerable < 0 || options.vulnerable > 1) {
    return MakeError(ErrorCode::kInvalidArgument, "--vulnerable must be 0..1");
  }
  auto site = std::make_unique<ModelSite>();
  ASSIGN_OR_RETURN(site->files, LoadMudDir(options.mud_dir));
  ASSIGN_OR_RETURN(std::string catalogue, ReadFile(options.threats));
  ASSIGN_OR_RETURN_CTX(site->model.threats, exposure::ParseThreatCatalogue(catalogue),
                       options.threats.string());
  bool small = options.devices <= 150;
  uint32_t base = small ? (192U << 24) | (168U << 16) | (5U << 8) : 10U << 24;
  uint32_t first = small ? 100 : 256;
  int bits = 8;
  while ((uint64_t{1} << bits) < first + static_cast<uint64_t>(options.devices) + 2) {
    ++bits;
  }
  site->lan_addresses = (uint64_t{1} << bits) - 2;
  std::string gateway = Ipv4(base + 1);
  site->edge = Address(gateway);
  mud::SiteFacts facts;
  facts.local_networks = {Ipv4(base) + "/" + std::to_string(32 - bits)};
  facts.controllers["urn:ietf:params:mud:dns"] = {gateway};
  facts.controllers["urn:ietf:params:mud:gateway"] = {gateway};
  size_t profiles = site->files.size();
  // Evenly spread: device i is weak when floor((i+1) v) > floor(i v).
  for (int i = 0; i < options.devices; ++i) {
    std::string name = "device-" + std::to_string(100000 + i);
    facts.devices.push_back({name,
                             site->files[static_cast<size_t>(i) % profiles].mud_url,
                             {Ipv4(base + first + static_cast<uint32_t>(i))}});
    bool weak = std::floor((i + 1) * options.vulnerable) > std::floor(i * options.vulnerable);
    exposure::DeviceFacts device;
    device.device = name;
    if (weak) {
      device.weaknesses = {"factory-credentials"};
    }
    site->model.devices.push_back(std::move(device));
  }
  mud::ResolvedNames names;
  for (const std::string& name : mud::DnsNamesUsed(site->files)) {
    names[name] = SyntheticAddresses(name);
  }
  ASSIGN_OR_RETURN(site->faithful, mud::CompilePolicy(site->files, facts, names));
  site->model.policy = &site->faithful;
  site->model.hosts = {{"internet", Address("203.0.113.10"), true}, {"edge", site->edge, false}};
  return site;
}

Result<std::vector<MiraiLabMode>> RunMiraiLab(const MiraiLabOptions& options) {
  if (options.runs < 1 || options.runs > 1000) {
    return MakeError(ErrorCode::kInvalidArgument, "--runs must be 1..1000");
  }
  for (const std::string& mode : options.modes) {
    if (PublishedFor(mode) == nullptr) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "unknown mode \"" + mode + "\" (none, mud, mud-stateless, mud-relaxed, analyzer)");
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<ModelSite> site, BuildModelSite(options.site));
  ASSIGN_OR_RETURN(std::string credentials_text, ReadFile(options.credentials));
  ASSIGN_OR_RETURN_CTX(auto credentials, exposure::ParseCredentials(credentials_text),
                       options.credentials.string());
  exposure::PolicyIndex faithful_index(site->faithful);
  ASSIGN_OR_RETURN(exposure::SiteGraph graph,
                   exposure::BuildSiteGraph(site->model, faithful_index));
  std::vector<exposure::DeclaredFlow> flows = exposure::DeclaredFlows(graph, site->faithful);

  std::vector<MiraiLabMode> results;
  for (const std::string& mode : options.modes) {
    mud::Policy policy = site->faithful;
    MiraiLabMode result;
    result.mode = mode;
    result.devices = options.site.devices;
    result.runs = options.runs;
    if (mode == "none") {
      policy.profiles.clear();  // every device unmanaged: nothing is filtered
    } else if (mode == "mud-stateless") {
      mud::ForgetDirectionInitiated(policy);
    } else if (mode != "mud") {
      mud::RelaxLikeInxu(policy);
    }
    if (mode == "analyzer") {
      exposure::SiteModel model = site->model;
      model.policy = &policy;
      model.declared = &site->faithful;
      ASSIGN_OR_RETURN(exposure::Analysis analysis, exposure::Analyze(model));
      ASSIGN_OR_RETURN(exposure::Tightening tightening, exposure::Tighten(model, analysis));
      policy.blocks = std::move(tightening.blocks);
      result.blocks = policy.blocks.size();
    }
    exposure::PolicyIndex index(policy);
    for (const exposure::DeclaredFlow& flow : flows) {
      result.legit_flows_total += flow.weight;
      if (!exposure::FlowPasses(flow, graph, index)) {
        result.legit_flows_blocked += flow.weight;
      }
    }
    exposure::MiraiSite mirai{
        &graph,     &policy, site->edge, site->lan_addresses, ChooseFloods(site->faithful),
        credentials};
    std::vector<double> metrics[5];
    auto start = Clock::now();
    for (int run = 0; run < options.runs; ++run) {
      ASSIGN_OR_RETURN(exposure::MiraiOutcome outcome,
                       exposure::SimulateMirai(mirai, options.parameters,
                                               options.seed + static_cast<uint64_t>(run)));
      metrics[0].push_back(static_cast<double>(outcome.bots_with_cnc));
      metrics[1].push_back(static_cast<double>(outcome.new_infections));
      metrics[2].push_back(static_cast<double>(outcome.hosts_scanned));
      metrics[3].push_back(static_cast<double>(outcome.ddos_generated));
      metrics[4].push_back(static_cast<double>(outcome.ddos_transmitted));
      result.events += outcome.events;
    }
    double seconds = std::max(MsSince(start) / 1000.0, 1e-9);
    result.simulated_device_minutes_per_second =
        options.site.devices * options.parameters.minutes * options.runs / seconds;
    result.bots_with_cnc = Summarize(metrics[0]);
    result.new_infections = Summarize(metrics[1]);
    result.hosts_scanned = Summarize(metrics[2]);
    result.ddos_generated = Summarize(metrics[3]);
    result.ddos_transmitted = Summarize(metrics[4]);
    results.push_back(std::move(result));
  }
  return results;
}

Json MiraiLabJson(const std::vector<MiraiLabMode>& modes) {
  Json out = Json::array();
  for (const MiraiLabMode& mode : modes) {
    Json entry{{"mode", mode.mode},
               {"devices", mode.devices},
               {"runs", mode.runs},
               {"bots_with_cnc", IntervalJson(mode.bots_with_cnc)},
               {"new_infections", IntervalJson(mode.new_infections)},
               {"hosts_scanned", IntervalJson(mode.hosts_scanned)},
               {"ddos_generated", IntervalJson(mode.ddos_generated)},
               {"ddos_transmitted", IntervalJson(mode.ddos_transmitted)},
               {"legit_flows_total", mode.legit_flows_total},
               {"legit_flows_blocked", mode.legit_flows_blocked},
               {"blocks", mode.blocks},
               {"simulated_device_minutes_per_second", mode.simulated_device_minutes_per_second}};
    if (const Published* published = PublishedFor(mode.mode); published != nullptr) {
      entry["published_inxu"] = Json{{"row", published->row},
                                     {"bots_with_cnc", published->values[0]},
                                     {"new_infections", published->values[1]},
                                     {"hosts_scanned", published->values[2]},
                                     {"ddos_generated", published->values[3]},
                                     {"ddos_transmitted", published->values[4]}};
    }
    out.push_back(std::move(entry));
  }
  return out;
}

std::string MiraiLabText(const std::vector<MiraiLabMode>& modes, const MiraiLabOptions& options) {
  std::ostringstream out;
  out << "Mirai over " << options.site.devices << " devices, every device seeded as a bot, "
      << options.parameters.minutes << " simulated minutes, " << options.runs << " runs (seeds "
      << options.seed << ".." << options.seed + static_cast<uint64_t>(options.runs) - 1
      << "); mean [95 % interval]; pub.: the published INXU experiment\n";
  auto cell = [](const Interval& interval) {
    std::ostringstream text;
    text.setf(std::ios::fixed);
    text.precision(1);
    text << interval.mean << " [" << interval.low << ", " << interval.high << "]";
    return text.str();
  };
  auto put = [&](const std::string& a, const std::string& b, const std::string& c,
                 const std::string& d, const std::string& e, const std::string& f,
                 const std::string& g) {
    std::ostringstream line;
    line << std::left;
    line.width(15);
    line << a;
    for (const std::string* column : {&b, &c, &d, &e, &f}) {
      line.width(34);
      line << *column;
    }
    line << g;
    std::string text = line.str();
    text.erase(text.find_last_not_of(' ') + 1);
    out << text << "\n";
  };
  put("mode", "bots with C&C", "new infections", "hosts scanned", "DDoS generated",
      "DDoS transmitted", "legit flows blocked");
  for (const MiraiLabMode& mode : modes) {
    put(mode.mode, cell(mode.bots_with_cnc), cell(mode.new_infections), cell(mode.hosts_scanned),
        cell(mode.ddos_generated), cell(mode.ddos_transmitted),
        std::to_string(mode.legit_flows_blocked) + " of " + std::to_string(mode.legit_flows_total));
    if (const Published* published = PublishedFor(mode.mode); published != nullptr) {
      std::string values[5];
      for (int i = 0; i < 5; ++i) {
        std::ostringstream text;
        text.setf(std::ios::fixed);
        text.precision(1);
        text << published->values[i];
        values[i] = text.str();
      }
      put(std::string("  pub. ") + published->row, values[0], values[1], values[2], values[3],
          values[4], "");
    }
  }
  for (const MiraiLabMode& mode : modes) {
    out << mode.mode << ": " << mode.events << " events, "
        << static_cast<uint64_t>(mode.simulated_device_minutes_per_second)
        << " simulated device-minutes per second"
        << (mode.blocks > 0 ? ", " + std::to_string(mode.blocks) + " analyzer blocks" : "") << "\n";
  }
  return out.str();
}

Result<ExposureLabReport> RunExposureLab(const ModelSiteOptions& options) {
  auto start = Clock::now();
  ASSIGN_OR_RETURN(std::unique_ptr<ModelSite> site, BuildModelSite(options));
  ExposureLabReport report;
  report.compile_ms = MsSince(start);
  report.devices = options.devices;
  for (const exposure::DeviceFacts& device : site->model.devices) {
    report.vulnerable += device.weaknesses.empty() ? 0 : 1;
  }
  start = Clock::now();
  ASSIGN_OR_RETURN(exposure::Analysis analysis, exposure::Analyze(site->model));
  report.analysis_ms = MsSince(start);
  start = Clock::now();
  ASSIGN_OR_RETURN(exposure::Tightening tightening, exposure::Tighten(site->model, analysis));
  report.tightening_ms = MsSince(start);
  report.nodes = analysis.graph.nodes.size();
  report.edges = analysis.graph.edges.size();
  report.exposures = analysis.exposures.size();
  report.leaks = analysis.leaks.size();
  report.paths = analysis.paths.size();
  report.blocks = tightening.blocks.size();
  for (const mud::Block& block : tightening.blocks) {
    report.block_addresses += block.sources.size() + block.destinations.size();
  }
  report.legit_flows_total = tightening.legit_flows_total;
  report.legit_flows_blocked = tightening.legit_flows_blocked;
  report.exposures_left = tightening.exposures_left;
  report.peak_rss_mb = PeakRssMb();
  return report;
}

Json ExposureLabReport::ToJson() const {
  return Json{{"devices", devices},
              {"vulnerable", vulnerable},
              {"compile_ms", compile_ms},
              {"analysis_ms", analysis_ms},
              {"tightening_ms", tightening_ms},
              {"analysis_and_tightening_ms", analysis_ms + tightening_ms},
              {"nodes", nodes},
              {"edges", edges},
              {"exposures", exposures},
              {"leaks", leaks},
              {"paths", paths},
              {"blocks", blocks},
              {"block_addresses", block_addresses},
              {"legit_flows_total", legit_flows_total},
              {"legit_flows_blocked", legit_flows_blocked},
              {"exposures_left", exposures_left},
              {"peak_rss_mb", peak_rss_mb}};
}

std::string ExposureLabReport::ToText() const {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << "devices          " << devices << " (" << vulnerable << " with factory credentials)\n"
      << "site compile     " << compile_ms << " ms (MUD files parsed and compiled)\n"
      << "graph            " << nodes << " nodes, " << edges << " edges\n"
      << "analysis         " << analysis_ms << " ms: " << exposures << " exposures, " << leaks
      << " leaks, " << paths << " attack paths\n"
      << "tightening       " << tightening_ms << " ms: " << blocks << " blocks naming "
      << block_addresses << " addresses\n"
      << "legit flows      " << legit_flows_blocked << " of " << legit_flows_total
      << " blocked; exposures left " << exposures_left << "\n"
      << "peak RSS         " << peak_rss_mb << " MB";
  return out.str();
}

}  // namespace concierge::lab
