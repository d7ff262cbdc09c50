#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cli.h"
#include "lab/exposure_lab.h"
#include "lab/onboard_lab.h"
#include "lab/policy_lab.h"
#include "lab/transfer_lab.h"

namespace concierge::app {
namespace {

Status Onboard(const lab::OnboardOptions& base, const Output& output) {
  lab::OnboardOptions options = base;
  if (isatty(STDERR_FILENO) != 0) {
    options.progress = [](int done, int total) {
      if (done % 50 == 0 || done == total) {
        (void)std::fprintf(stderr, "\r  enrolled %d / %d", done, total);
        if (done == total) {
          (void)std::fprintf(stderr, "\n");
        }
      }
    };
  }
  ASSIGN_OR_RETURN(auto report, lab::RunOnboardLab(options));
  output.Print(report.ToJson(), report.ToText());
  if (report.failed > 0) {
    return MakeError(
        ErrorCode::kInternal,
        std::to_string(report.failed) + " enrollment(s) failed; first: " + report.first_error);
  }
  return OkStatus();
}

Status TransferLab(const lab::TransferOptions& base, const Output& output) {
  lab::TransferOptions options = base;
  if (isatty(STDERR_FILENO) != 0) {
    options.progress = [](std::string_view phase, int done, int total) {
      if (done % 50 == 0 || done == total) {
        (void)std::fprintf(stderr, "\r  %.*s %d / %d", static_cast<int>(phase.size()), phase.data(),
                           done, total);
        if (done == total) {
          (void)std::fprintf(stderr, "\n");
        }
      }
    };
  }
  ASSIGN_OR_RETURN(auto report, lab::RunTransferLab(options));
  output.Print(report.ToJson(), report.ToText());
  if (report.failed > 0) {
    return MakeError(
        ErrorCode::kInternal,
        std::to_string(report.failed) + " device(s) did not move; first: " + report.first_error);
  }
  if (report.longest_gap_ms > 0) {
    return MakeError(ErrorCode::kInternal, "a device was without working credentials for " +
                                               std::to_string(report.longest_gap_ms) + " ms");
  }
  return OkStatus();
}

Status PolicyLab(const lab::PolicyLabOptions& options, bool linear, const Output& output) {
  lab::PolicyLabOptions run = options;
  run.dispatch = linear ? firewall::Dispatch::kLinearList : firewall::Dispatch::kAddressMap;
  ASSIGN_OR_RETURN(auto report, lab::RunPolicyLab(run));
  output.Print(report.ToJson(), report.ToText());
  return OkStatus();
}

Status MiraiLab(const lab::MiraiLabOptions& options, const Output& output) {
  ASSIGN_OR_RETURN(auto modes, lab::RunMiraiLab(options));
  output.Print(lab::MiraiLabJson(modes), lab::MiraiLabText(modes, options));
  return OkStatus();
}

Status ExposureLab(const lab::ModelSiteOptions& options, const Output& output) {
  ASSIGN_OR_RETURN(auto report, lab::RunExposureLab(options));
  output.Print(report.ToJson(), report.ToText());
  return OkStatus();
}

void AddExposureLabs(CLI::App& lab, Action& action, Output& output) {
  auto mirai = std::make_shared<lab::MiraiLabOptions>();
  mirai->site.mud_dir = lab::DefaultMudDir();
  mirai->site.threats = lab::DefaultDataDir() / "threats" / "mirai-inxu.json";
  mirai->credentials = lab::DefaultDataDir() / "mirai-credentials.json";
  auto mode = std::make_shared<std::string>("all");
  CLI::App* command = lab.add_subcommand(
      "mirai", "Simulate the Mirai botnet over N devices under each protection mode");
  command->add_option("--devices", mirai->site.devices, "How many devices")->capture_default_str();
  command->add_option("--mode", *mode, "none, mud, mud-stateless, mud-relaxed, analyzer or all")
      ->check(CLI::IsMember({"none", "mud", "mud-stateless", "mud-relaxed", "analyzer", "all"}))
      ->capture_default_str();
  command->add_option("--runs", mirai->runs, "Runs per mode")->capture_default_str();
  command->add_option("--seed", mirai->seed, "Seed of the first run")->capture_default_str();
  command->add_option("--minutes", mirai->parameters.minutes, "Simulated minutes")
      ->capture_default_str();
  command
      ->add_option("--vulnerable", mirai->site.vulnerable,
                   "Share of devices with factory telnet credentials")
      ->capture_default_str();
  command->add_option("--mud-dir", mirai->site.mud_dir, "Profiles to repeat (*.json)")
      ->capture_default_str();
  command->add_option("--threats", mirai->site.threats, "Threat catalogue")->capture_default_str();
  command->add_option("--credentials", mirai->credentials, "The bot's login dictionary")
      ->capture_default_str();
  command->add_flag("--json", output.json, "Print JSON");
  command->callback([&action, &output, mirai, mode] {
    if (*mode != "all") {
      mirai->modes = {*mode};
    }
    action = [&output, mirai] { return MiraiLab(*mirai, output); };
  });

  auto site = std::make_shared<lab::ModelSiteOptions>();
  site->devices = 100000;
  site->vulnerable = 0.01;
  site->mud_dir = lab::DefaultMudDir();
  site->threats = lab::DefaultDataDir() / "threats" / "mirai-inxu.json";
  CLI::App* analysis = lab.add_subcommand(
      "exposure", "Time the exposure analysis and tightening of N devices from repeated profiles");
  analysis->add_option("--devices", site->devices, "How many devices")->capture_default_str();
  analysis->add_option("--vulnerable", site->vulnerable, "Share of devices that are weak")
      ->capture_default_str();
  analysis->add_option("--mud-dir", site->mud_dir, "Profiles to repeat (*.json)")
      ->capture_default_str();
  analysis->add_option("--threats", site->threats, "Threat catalogue")->capture_default_str();
  analysis->add_flag("--json", output.json, "Print JSON");
  analysis->callback([&action, &output, site] {
    action = [&output, site] { return ExposureLab(*site, output); };
  });
}

}  // namespace

void AddLabCommands(CLI::App& app, Action& action, Output& output) {
  auto options = std::make_shared<lab::OnboardOptions>();
  CLI::App* lab = app.add_subcommand("lab", "Experiments on this machine, over real sockets");
  lab->require_subcommand(1);
  CLI::App* onboard = lab->add_subcommand(
      "onboard", "A maker, a site and N pledges enrolling over TLS on loopback");
  onboard->add_option("--devices", options->devices, "How many pledges")->capture_default_str();
  onboard->add_option("--concurrency", options->concurrency, "Pledges in flight at once")
      ->capture_default_str();
  onboard
      ->add_option("--registrar-workers", options->registrar_workers,
                   "Registrar connection threads")
      ->capture_default_str();
  onboard
      ->add_option("--via", options->via,
                   "Transport: https (RFC 8995), coaps (cBRSKI over DTLS, "
                   "docs/constrained.md), joinproxy (coaps through a stateless join proxy, "
                   "docs/joinproxy.md) or joinproxy-stateful (through a stateful one)")
      ->check(CLI::IsMember({"https", "coaps", "joinproxy", "joinproxy-stateful"}))
      ->capture_default_str();
  onboard->add_option("--db", options->database,
                      "Keep the site's records in this PostgreSQL database (postgresql://…; the "
                      "lab uses a schema of its own and drops it) instead of an SQLite file");
  onboard
      ->add_option("--controllers", options->controllers,
                   "Site controllers sharing the site's records; pledges spread over them")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  onboard->add_option("--registrar", options->registrars,
                      "HOST:PORT of a running site controller (repeat for several): enroll "
                      "through them instead of a site of the lab's own; needs --maker");
  onboard->add_option("--maker", options->maker_dir,
                      "Directory of the maker whose running MASA those controllers reach");
  onboard->add_option("--masa-url", options->masa_url,
                      "The running MASA's HOST:PORT, when not the one the maker names");
  onboard
      ->add_option("--attempts", options->attempts,
                   "With --registrar: tries per pledge, each at the next controller")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  onboard->add_flag("--json", output.json, "Print JSON");
  onboard->callback([&action, &output, options] {
    action = [&output, options] { return Onboard(*options, output); };
  });

  auto policy = std::make_shared<lab::PolicyLabOptions>();
  policy->mud_dir = lab::DefaultMudDir();
  auto linear = std::make_shared<bool>(false);
  CLI::App* policy_lab = lab->add_subcommand(
      "policy", "Compile (and apply) MUD policy for N devices from repeated profiles");
  policy_lab->add_option("--devices", policy->devices, "How many devices")->capture_default_str();
  policy_lab->add_option("--mud-dir", policy->mud_dir, "Profiles to repeat (*.json)")
      ->capture_default_str();
  policy_lab->add_flag("--apply", policy->apply,
                       "Load it into this network namespace's nftables (needs CAP_NET_ADMIN)");
  policy_lab->add_flag("--linear", *linear, "A linear per-device rule list instead of maps");
  policy_lab->add_option("--client", policy->client, "Address of an extra iperf3 client device");
  policy_lab->add_option("--server", policy->server, "Address of the iperf3 server it may reach");
  policy_lab->add_flag("--json", output.json, "Print JSON");
  policy_lab->callback([&action, &output, policy, linear] {
    action = [&output, policy, linear] { return PolicyLab(*policy, *linear, output); };
  });
  AddExposureLabs(*lab, action, output);

  auto transfer = std::make_shared<lab::TransferOptions>();
  CLI::App* transfer_lab = lab->add_subcommand(
      "transfer", "Onboard N devices at one site, transfer them all to another, measure");
  transfer_lab->add_option("--devices", transfer->devices, "How many devices")
      ->capture_default_str();
  transfer_lab->add_option("--concurrency", transfer->concurrency, "Devices moving at once")
      ->capture_default_str();
  transfer_lab->add_flag("--json", output.json, "Print JSON");
  transfer_lab->callback([&action, &output, transfer] {
    action = [&output, transfer] { return TransferLab(*transfer, output); };
  });
}

}  // namespace concierge::app
