// `concierge exposure …`: what the compiled policy leaves open to known threats, why, and the
// drops that close it.
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include "api/exposure_json.h"
#include "app/cli.h"
#include "app/open_site.h"
#include "common/files.h"
#include "common/process.h"
#include "exposure/dot.h"
#include "exposure/drawn.h"
#include "firewall/firewall.h"

namespace concierge::app {
namespace {

struct ExposureArgs {
  std::string dir;
  std::string device;
  std::string weakness;
  std::string package;
  std::string version;
  std::string threats;
  std::vector<std::string> advisories;
  std::vector<std::string> quarantine;
  std::string format = "dot";
  std::string out;
  bool apply = false;
  bool off = false;
};

// SiteExposure is the site opened with the analyzer's view of it.
struct SiteExposure {
  std::unique_ptr<site::Site> site;
  std::unique_ptr<site::ExposureView> view;
};

// OpenExposure opens the site and compiles the analyzer's view of it.
Result<SiteExposure> OpenExposure(const ExposureArgs& args) {
  SiteExposure out;
  ASSIGN_OR_RETURN(out.site, OpenPolicySite(args.dir, {}, false));
  ASSIGN_OR_RETURN(out.view, out.site->OpenExposureView());
  return out;
}

Status Show(const ExposureArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(SiteExposure site, OpenExposure(args));
  ASSIGN_OR_RETURN(exposure::Analysis analysis, exposure::Analyze(site.view->model));
  const exposure::TighteningSettings& settings = site.view->settings;
  const auto& nodes = analysis.graph.nodes;
  std::ostringstream text;
  text << analysis.graph.DeviceCount() << " managed device(s) in "
       << nodes.size() - static_cast<size_t>(std::ranges::count(nodes, true, &exposure::Node::host))
       << " class(es); site exposure score " << analysis.site_score << "; tightening "
       << (settings.enabled ? "on" : "off") << "\n";
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].host) {
      continue;
    }
    text << "\n"
         << nodes[i].label << "\n  score " << analysis.risks[i].score << ", blast radius "
         << analysis.risks[i].blast_radius << " device(s)\n";
    for (const std::string& reason : analysis.risks[i].reasons) {
      text << "  - " << reason << "\n";
    }
  }
  text << "\nattack paths (" << analysis.paths.size() << "):\n";
  for (const exposure::AttackPath& path : analysis.paths) {
    for (size_t hop = 0; hop < path.steps.size(); ++hop) {
      text << (hop == 0 ? "  * " : "    then ") << path.steps[hop] << "\n";
    }
  }
  for (const std::string& id : analysis.unplaced_advisories) {
    text << "advisory " << id << " affects devices here, but no threat says how it is reached\n";
  }
  Json document = api::AnalysisJson(analysis);
  document["tightening"] = settings.enabled;
  output.Print(document, text.str());
  return OkStatus();
}

Status Explain(const ExposureArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(SiteExposure site, OpenExposure(args));
  ASSIGN_OR_RETURN(exposure::Analysis analysis, exposure::Analyze(site.view->model));
  ASSIGN_OR_RETURN(Json explained, api::ExplainJson(analysis, args.device));
  std::ostringstream text;
  text << args.device << " is one of " << explained["label"].get<std::string>() << "\n";
  text << "  weaknesses:";
  for (const Json& weakness : explained["weaknesses"]) {
    text << " " << weakness.get<std::string>();
  }
  text << (explained["weaknesses"].empty() ? " none known" : "")
       << "\n  (reasons name one member of each class: its members share one MUD file)\n";
  text << "  reachable on a weak service from:\n";
  for (const Json& e : explained["reachable_from"]) {
    text << "    " << e["from"].get<std::string>() << " on " << e["port"].get<std::string>() << " ("
         << e["threat"].get<std::string>() << "): " << e["reason"].get<std::string>() << "\n";
  }
  text << "  can attack, if compromised:\n";
  for (const Json& e : explained["can_attack"]) {
    text << "    " << e["to"].get<std::string>() << " on " << e["port"].get<std::string>() << " ("
         << e["threat"].get<std::string>() << ")\n";
  }
  text << "  botnet traffic it can send:\n";
  for (const Json& l : explained["botnet_traffic"]) {
    text << "    " << l["port"].get<std::string>() << " to " << l["peer"].get<std::string>() << " ("
         << l["threat"].get<std::string>() << "): " << l["reason"].get<std::string>() << "\n";
  }
  text << "  blast radius " << explained["blast_radius"].get<size_t>() << " device(s), score "
       << explained["score"].get<double>() << "\n";
  output.Print(explained, text.str());
  return OkStatus();
}

Status Tighten(const ExposureArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(SiteExposure site, OpenExposure(args));
  if (args.off) {
    ASSIGN_OR_RETURN(auto nft, firewall::OpenNftables());
    ASSIGN_OR_RETURN(auto report,
                     site.site->SetTightening({false, {}}, Json{{"by", LocalActor()}}, *nft));
    output.Print(Json{{"tightening", false}, {"changed", report.changed}},
                 "tightening off; policy " + std::string(report.changed ? "applied" : "unchanged"));
    return OkStatus();
  }
  ASSIGN_OR_RETURN(exposure::Analysis analysis, exposure::Analyze(site.view->model));
  ASSIGN_OR_RETURN(exposure::Tightening tightening,
                   exposure::Tighten(site.view->model, analysis, args.quarantine));
  std::ostringstream text;
  text << tightening.blocks.size() << " block(s) cut " << analysis.exposures.size()
       << " exposure(s) and " << analysis.leaks.size()
       << " leak(s); left open: " << tightening.exposures_left << " exposure(s), "
       << tightening.leaks_left << " leak(s)\n"
       << "declared flows: " << tightening.legit_flows_total
       << ", broken by the blocks: " << tightening.legit_flows_blocked << "\n";
  for (const mud::Block& block : tightening.blocks) {
    text << "  drop " << exposure::PortLabel(block.protocol, block.ports.front());
    for (size_t i = 1; i < block.ports.size(); ++i) {
      text << "," << block.ports[i];
    }
    text << (block.sources.empty() ? ""
                                   : " from " + std::to_string(block.sources.size()) + " device(s)")
         << (block.destinations.empty()
                 ? ""
                 : " to " + std::to_string(block.destinations.size()) + " address(es)")
         << "  [" << block.name << ": " << block.reason << "]\n";
  }
  for (const exposure::Conflict& conflict : tightening.conflicts) {
    text << "conflict: " << conflict.node << " keeps " << exposure::PortLabel(6, conflict.port)
         << " open (" << conflict.threat << "), because its MUD file declares " << conflict.flow
         << "\n";
    for (const std::string& option : conflict.options) {
      text << "  " << option << "\n";
    }
  }
  Json document = api::TighteningJson(tightening);
  if (args.apply) {
    ASSIGN_OR_RETURN(auto nft, firewall::OpenNftables());
    ASSIGN_OR_RETURN(auto report,
                     site.site->SetTightening({true, args.quarantine},
                                              Json{{"blocks", tightening.blocks.size()},
                                                   {"by", LocalActor()},
                                                   {"conflicts", tightening.conflicts.size()}},
                                              *nft));
    text << (report.changed ? "applied" : "unchanged") << ": MUD policy and "
         << tightening.blocks.size() << " block(s) in one transaction, ruleset sha256 "
         << report.sha256.substr(0, 16) << "\n";
    document["applied"] = report.changed;
    document["sha256"] = report.sha256;
  } else {
    text << "(not applied: add --apply)\n";
  }
  output.Print(document, text.str());
  return OkStatus();
}

Status Graph(const ExposureArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(SiteExposure site, OpenExposure(args));
  ASSIGN_OR_RETURN(exposure::Analysis analysis, exposure::Analyze(site.view->model));
  std::string dot = exposure::RenderDot(analysis);
  if (args.format == "dot") {
    if (args.out.empty()) {
      std::cout << dot;
      return OkStatus();
    }
    RETURN_IF_ERROR(WriteFileAtomic(args.out, dot));
  } else {
    if (args.out.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "--out FILE is needed for " + args.format);
    }
    // Graphviz lays the picture out; the DOT goes through a file, and no shell is involved.
    std::string dot_path = args.out + ".dot";
    RETURN_IF_ERROR(WriteFileAtomic(dot_path, dot));
    Status drawn = RunProgram({"dot", "-T" + args.format, "-o", args.out, dot_path});
    std::filesystem::remove(dot_path);
    if (!drawn) {
      return MakeError(ErrorCode::kUnavailable,
                       drawn.error().message() + " (is the graphviz package installed?)");
    }
  }
  output.Print(Json{{"out", args.out}, {"format", args.format}},
               "wrote " + args.out + " (" + args.format + ")");
  return OkStatus();
}

Status Mark(const ExposureArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, {}, false));
  RETURN_IF_ERROR(site->MarkWeakness(args.device, args.weakness));
  output.Print(Json{{"device", args.device}, {"weakness", args.weakness}},
               args.device + " marked " + args.weakness);
  return OkStatus();
}

Status Unmark(const ExposureArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, {}, false));
  RETURN_IF_ERROR(site->UnmarkWeakness(args.device, args.weakness));
  output.Print(Json{{"device", args.device}, {"weakness", args.weakness}},
               args.device + " no longer marked " + args.weakness);
  return OkStatus();
}

Status Software(const ExposureArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, {}, false));
  RETURN_IF_ERROR(site->SetSoftware(args.device, args.package, args.version));
  output.Print(Json{{"device", args.device}, {"package", args.package}, {"version", args.version}},
               args.device + " runs " + args.package + " " + args.version);
  return OkStatus();
}

Status Knowledge(const ExposureArgs& args, const Output& output) {
  if (args.threats.empty() && args.advisories.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "give --threats FILE and/or --advisories FILE");
  }
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, {}, false));
  std::ostringstream text;
  if (!args.threats.empty()) {
    ASSIGN_OR_RETURN(std::string body, ReadFile(args.threats));
    ASSIGN_OR_RETURN_CTX(size_t threats, site->StoreThreatCatalogue(body), args.threats);
    text << "stored " << threats << " threat(s) from " << args.threats << "\n";
  }
  if (!args.advisories.empty()) {
    std::vector<std::pair<std::string, std::string>> documents;
    for (const std::string& path : args.advisories) {
      ASSIGN_OR_RETURN(std::string body, ReadFile(path));
      documents.emplace_back(path, std::move(body));
    }
    ASSIGN_OR_RETURN(std::vector<size_t> counts, site->StoreAdvisories(documents));
    for (size_t i = 0; i < counts.size(); ++i) {
      text << "read " << counts[i] << " advisory(ies) from " << args.advisories[i] << "\n";
    }
  }
  output.Print(Json{{"stored", true}}, text.str());
  return OkStatus();
}

}  // namespace

void AddExposureCommands(CLI::App& app, Action& action, Output& output) {
  auto args = std::make_shared<ExposureArgs>();
  auto bind = [&action, &output, args](CLI::App* command,
                                       Status (*body)(const ExposureArgs&, const Output&)) {
    AddSiteDir(*command, args->dir);
    command->add_flag("--json", output.json, "Print JSON");
    command->callback([&action, &output, args, body] {
      action = [&output, args, body] { return body(*args, output); };
    });
  };
  CLI::App* exposure = app.add_subcommand(
      "exposure", "What the policy leaves open to known threats, and the drops that close it");
  exposure->require_subcommand(1);
  bind(exposure->add_subcommand("show", "Classes, scores, blast radii and attack paths"), Show);
  CLI::App* explain = exposure->add_subcommand("explain", "Why one device is exposed");
  explain->add_option("device", args->device, "Device name")->required();
  bind(explain, Explain);
  CLI::App* tighten =
      exposure->add_subcommand("tighten", "The drops that cut every attack path, and conflicts");
  tighten->add_flag("--apply", args->apply,
                    "Keep them in the site's policy and apply it (one transaction)");
  tighten->add_option("--quarantine", args->quarantine,
                      "Block this class or device even where its MUD file declares the flow");
  tighten->add_flag("--off", args->off, "Take the blocks out of the site's policy");
  bind(tighten, Tighten);
  CLI::App* graph = exposure->add_subcommand("graph", "The exposure graph for Graphviz");
  graph->add_option("--format", args->format, "dot, svg or png")
      ->check(CLI::IsMember({"dot", "svg", "png"}))
      ->capture_default_str();
  graph->add_option("--out", args->out, "Write here (dot: default stdout)");
  bind(graph, Graph);
  for (auto [name, body, help] :
       {std::tuple<const char*, Status (*)(const ExposureArgs&, const Output&), const char*>{
            "mark", Mark, "Record a weakness of a device (e.g. factory-credentials)"},
        {"unmark", Unmark, "Clear a weakness (patched, credentials changed)"}}) {
    CLI::App* command = exposure->add_subcommand(name, help);
    command->add_option("device", args->device, "Device name")->required();
    command->add_option("weakness", args->weakness, "Weakness")->required();
    bind(command, body);
  }
  CLI::App* software = exposure->add_subcommand("software", "Record a package a device runs");
  software->add_option("device", args->device, "Device name")->required();
  software->add_option("package", args->package, "Package (as advisories name it)")->required();
  software->add_option("version", args->version, "Version")->required();
  bind(software, Software);
  CLI::App* knowledge =
      exposure->add_subcommand("knowledge", "Store a threat catalogue and OSV advisories");
  knowledge->add_option("--threats", args->threats, "Threat catalogue (JSON)");
  knowledge->add_option("--advisories", args->advisories, "OSV advisories (JSON; repeatable)");
  bind(knowledge, Knowledge);
}

}  // namespace concierge::app
