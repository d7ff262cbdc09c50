// `concierge mud …` and `concierge policy …`: MUD URLs, files, site facts and the nftables
// policy that enforces them.
#include <signal.h>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "api/mud_json.h"
#include "app/cli.h"
#include "app/open_site.h"
#include "common/files.h"
#include "firewall/enforcer.h"
#include "firewall/mud_check.h"
#include "firewall/nft_ruleset.h"
#include "mud/mud_manager.h"
#include "mud/mud_parser.h"
#include "mud/site_facts_json.h"
#include "registrar/site_directory.h"
#include "registrar/site_store.h"

namespace concierge::app {
namespace {

struct PolicyArgs {
  std::string dir;
  std::string device;
  std::string url;
  std::string authority;
  std::string ca;
  std::string mac;
  std::string ip;
  std::vector<std::string> addresses;
  std::vector<std::string> tls_cas;
  std::string file;
  std::string signature;
  std::string facts;
  std::vector<std::string> mud_files;
  std::string fact_kind;
  std::string fact_key;
  std::string fact_value;
  bool force = false;
  bool no_apply = false;
  bool dry_run = false;
  bool linear = false;
  bool trust_expired_signers = false;
  int every = 0;  // seconds between refresh rounds; 0: once
};

Status Trust(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, args.tls_cas, args.trust_expired_signers));
  ASSIGN_OR_RETURN(std::string pem, ReadFile(args.ca));
  ASSIGN_OR_RETURN_CTX(auto anchors, crypto::Certificate::FromPemChain(pem), args.ca);
  for (const auto& anchor : anchors) {
    RETURN_IF_ERROR(site->mud_store().AddSignerAnchor(mud::UrlAuthority(args.authority), anchor));
  }
  output.Print(Json{{"authority", mud::UrlAuthority(args.authority)}, {"anchors", anchors.size()}},
               "MUD files from " + mud::UrlAuthority(args.authority) + " must be signed under " +
                   anchors.front().SubjectText());
  return OkStatus();
}

Status Assign(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, args.tls_cas, args.trust_expired_signers));
  ASSIGN_OR_RETURN(registry::DeviceRegistry * devices, site->Registry());
  RETURN_IF_ERROR(devices->AssignUrl(args.device, args.url, registry::kSourceManual));
  if (!args.addresses.empty()) {
    RETURN_IF_ERROR(devices->SetAddresses(args.device, args.addresses));
  }
  output.Print(Json{{"device", args.device}, {"mud_url", args.url}},
               "device " + args.device + " uses MUD URL " + args.url);
  return OkStatus();
}

Status Address(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, args.tls_cas, args.trust_expired_signers));
  ASSIGN_OR_RETURN(registry::DeviceRegistry * devices, site->Registry());
  RETURN_IF_ERROR(devices->SetAddresses(args.device, args.addresses));
  std::string list;
  for (const auto& address : args.addresses) {
    list += " " + address;
  }
  output.Print(Json{{"device", args.device}, {"addresses", args.addresses}},
               "device " + args.device + " is at" + list);
  return OkStatus();
}

Status Seen(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, args.tls_cas, args.trust_expired_signers));
  ASSIGN_OR_RETURN(registry::DeviceRegistry * devices, site->Registry());
  ASSIGN_OR_RETURN(std::string name, devices->Seen(args.mac, args.ip, args.url));
  ASSIGN_OR_RETURN(auto device, devices->Find(name));
  output.Print(Json{{"device", name}, {"mud_url", device ? device->mud_url : ""}},
               "device " + name + " at " + args.ip +
                   (device && !device->mud_url.empty() ? " uses " + device->mud_url : ""));
  return OkStatus();
}

Status Load(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, args.tls_cas, args.trust_expired_signers));
  ASSIGN_OR_RETURN(std::string body, ReadFile(args.file));
  ASSIGN_OR_RETURN(std::string signature, ReadFile(args.signature));
  ASSIGN_OR_RETURN_CTX(auto parsed, mud::ParseMudJson(body), args.file);
  RETURN_IF_ERROR(site->mud_manager().AcceptFile(parsed.mud_url, body,
                                                 Bytes(signature.begin(), signature.end())));
  std::string text = "accepted " + parsed.mud_url + " (" + std::to_string(parsed.AceCount()) +
                     " access-control entries)";
  for (const std::string& warning : parsed.warnings) {
    text += "\n  warning: " + warning;
  }
  output.Print(Json{{"mud_url", parsed.mud_url}, {"accepted", true}, {"warnings", parsed.warnings}},
               text);
  return OkStatus();
}

Json RefusalJson(const firewall::Refusal& refusal) {
  return Json{{"error", refusal.error}, {"hint", refusal.hint}};
}

// Check needs no site: a maker checks a file before publishing it.
Status Check(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(std::string body, ReadFile(args.file));
  std::optional<firewall::SignatureToCheck> signature;
  if (!args.signature.empty()) {
    if (args.ca.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--signature needs --ca, the CA the MUD signer chains to");
    }
    ASSIGN_OR_RETURN(std::string signature_bytes, ReadFile(args.signature));
    ASSIGN_OR_RETURN(std::string pem, ReadFile(args.ca));
    ASSIGN_OR_RETURN_CTX(auto anchors, crypto::Certificate::FromPemChain(pem), args.ca);
    signature = firewall::SignatureToCheck{Bytes(signature_bytes.begin(), signature_bytes.end()),
                                           anchors, args.trust_expired_signers};
  }
  firewall::MudCheckReport report = firewall::CheckMudFile(body, signature, SystemClock().Now());
  Json json{{"file", args.file},
            {"mud_url", report.mud_url},
            {"ok", report.ok()},
            {"warnings", report.warnings},
            {"notes", report.notes}};
  std::ostringstream text;
  if (report.refused) {
    json["refused"] = RefusalJson(*report.refused);
    text << args.file << ": refused: " << report.refused->error
         << "\n  hint: " << report.refused->hint << "\n";
  } else {
    text << args.file << ": " << report.mud_url << " compiles (" << report.entries.size()
         << " entries)\n";
  }
  for (const std::string& warning : report.warnings) {
    text << "warning: " << warning << "\n";
  }
  Json entries = Json::array();
  for (const firewall::CheckedEntry& entry : report.entries) {
    entries.push_back(Json{{"acl", entry.acl},
                           {"name", entry.name},
                           {"direction", entry.direction},
                           {"action", entry.action},
                           {"matches", entry.matches},
                           {"rules", entry.rules}});
    text << entry.direction << "  " << entry.acl << "/" << entry.name << ": " << entry.action << " "
         << entry.matches << "\n";
    for (const std::string& rule : entry.rules) {
      text << "    " << rule << "\n";
    }
    if (entry.rules.empty()) {
      text << "    (no rule: not enforced by the router, see the notes)\n";
    }
  }
  json["entries"] = entries;
  if (!report.notes.empty()) {
    text << "notes (compiled for one device, with no site facts or DNS answers):\n";
    for (const std::string& note : report.notes) {
      text << "  " << note << "\n";
    }
  }
  if (report.signer) {
    json["signer"] = *report.signer;
    text << "signature: verified, signed by " << *report.signer << "\n";
  } else if (report.signature_refused) {
    json["signature_refused"] = RefusalJson(*report.signature_refused);
    text << "signature: refused: " << report.signature_refused->error
         << "\n  hint: " << report.signature_refused->hint << "\n";
  } else if (!report.refused) {
    text << "signature: not checked (give --signature and --ca)\n";
  }
  std::string shown = text.str();
  shown.pop_back();
  output.Print(json, shown);
  if (report.refused) {
    return MakeError(ErrorCode::kBadFormat, "the MUD file is refused");
  }
  if (report.signature_refused) {
    return MakeError(ErrorCode::kSecurity, "the MUD file's signature is refused");
  }
  return OkStatus();
}

Status Show(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, args.tls_cas, args.trust_expired_signers));
  ASSIGN_OR_RETURN(registry::DeviceRegistry * registry, site->Registry());
  ASSIGN_OR_RETURN(auto devices, registry->List());
  Json list = Json::array();
  std::ostringstream text;
  for (const auto& device : devices) {
    if (!args.device.empty() && device.name != args.device) {
      continue;
    }
    Json row = api::MudStateJson(*site, device);
    list.push_back(row);
    text << device.name << "\n  addresses:";
    for (const auto& address : device.addresses) {
      text << " " << address;
    }
    text << (device.addresses.empty() ? " none" : "")
         << "\n  mud url:   " << (device.mud_url.empty() ? "-" : device.mud_url) << " ("
         << (device.url_source.empty() ? "none" : device.url_source) << ")\n";
    if (row.contains("signer")) {
      text << "  file:      verified, signed by " << row["signer"].get<std::string>()
           << ", fetched " << row["fetched"].get<std::string>() << ", refetch after "
           << row["expires"].get<std::string>() << "\n";
    } else if (!device.mud_url.empty()) {
      text << "  file:      none verified yet\n";
    }
    for (const auto& warning : row.value("warnings", Json::array())) {
      text << "  warning:   " << warning.get<std::string>() << "\n";
    }
    if (row.contains("last_error")) {
      text << "  refused:   " << row["last_error"].get<std::string>() << "\n";
    }
  }
  if (!args.device.empty() && list.empty()) {
    return MakeError(ErrorCode::kNotFound, "no device " + args.device);
  }
  output.Print(list, text.str().empty() ? "no devices" : text.str());
  return OkStatus();
}

std::string Summary(const firewall::ApplyReport& report) {
  std::ostringstream text;
  text << (report.dry_run   ? "checked (not applied): "
           : report.changed ? "applied: "
                            : "unchanged: ")
       << report.devices << " device(s), " << report.profiles << " MUD file(s), " << report.rules
       << " rule(s), ruleset sha256 " << report.sha256.substr(0, 16) << "\n";
  for (const auto& [device, why] : report.unmanaged) {
    text << "  not managed: " << device << " (" << why << ")\n";
  }
  return text.str();
}

Json ReportJson(const firewall::ApplyReport& report) {
  Json unmanaged = Json::array();
  for (const auto& [device, why] : report.unmanaged) {
    unmanaged.push_back(Json{{"device", device}, {"reason", why}});
  }
  return Json{{"changed", report.changed}, {"dry_run", report.dry_run},   {"sha256", report.sha256},
              {"devices", report.devices}, {"profiles", report.profiles}, {"rules", report.rules},
              {"unmanaged", unmanaged},    {"diff", report.diff}};
}

Status RefreshOnce(site::Site& site, const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto report, site.mud_manager().RefreshFiles(args.force));
  std::ostringstream text;
  Json refused = Json::array();
  for (const auto& url : report.accepted) {
    text << "accepted " << url << "\n";
  }
  for (const auto& [url, why] : report.refused) {
    text << "refused  " << url << ": " << why << "\n";
    refused.push_back(Json{{"url", url}, {"reason", why}});
  }
  for (const auto& [name, why] : report.name_errors) {
    text << "dns      " << name << ": " << why << " (previous answer kept)\n";
  }
  size_t addressed = report.names_resolved - report.names_without_address.size();
  text << "dns: " << report.names_resolved << " name(s) looked up, " << addressed
       << " with addresses, " << report.names_changed << " changed\n";
  for (const std::string& name : report.names_without_address) {
    text << "dns      " << name << ": no address; flows to it stay blocked\n";
  }
  Json document{{"accepted", report.accepted},
                {"refused", refused},
                {"names_resolved", report.names_resolved},
                {"names_without_address", report.names_without_address},
                {"names_changed", report.names_changed}};
  // Enforcement is on once a policy has been applied; a refresh then keeps it current.
  ASSIGN_OR_RETURN(auto applied, site.mud_store().FindAppliedPolicy());
  if (applied && !args.no_apply) {
    ASSIGN_OR_RETURN(auto apply, EnforceNow(site, false));
    text << Summary(apply);
    document["policy"] = ReportJson(apply);
  }
  output.Print(document, text.str());
  return report.refused.empty()
             ? OkStatus()
             : MakeError(ErrorCode::kSecurity, std::to_string(report.refused.size()) +
                                                   " MUD file(s) refused; the devices keep their "
                                                   "previous policy");
}

// Refresh runs once, or with --every until SIGINT/SIGTERM (blocked by main, so they wait
// here): a failed round is reported and the next one tries again.
Status Refresh(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, args.tls_cas, args.trust_expired_signers));
  if (args.every <= 0) {
    return RefreshOnce(*site, args, output);
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  PolicyArgs round = args;
  for (;;) {
    std::cout << "--- " << FormatRfc3339(site->clock().Now()) << "\n";
    if (auto done = RefreshOnce(*site, round, output); !done) {
      std::cerr << "concierge: " << done.error().ToString() << "\n";
    }
    round.force = false;  // only the first round may be forced
    timespec wait{args.every, 0};
    if (sigtimedwait(&stop, nullptr, &wait) > 0) {
      return OkStatus();
    }
  }
}

Status PolicyShow(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, args.tls_cas, args.trust_expired_signers));
  ASSIGN_OR_RETURN(auto compiled, site->mud_manager().Compile());
  std::string text;
  if (args.device.empty()) {
    text = firewall::RenderRuleset(compiled.policy, args.linear ? firewall::Dispatch::kLinearList
                                                                : firewall::Dispatch::kAddressMap);
  } else {
    ASSIGN_OR_RETURN(text, firewall::RenderDevice(compiled.policy, args.device));
  }
  output.Print(Json{{"ruleset", text}}, text);
  return OkStatus();
}

Status PolicyDiff(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, args.tls_cas, args.trust_expired_signers));
  ASSIGN_OR_RETURN(auto applied, site->mud_store().FindAppliedPolicy());
  // Against the policy as it would be applied: tightened and with the quarantines.
  ASSIGN_OR_RETURN(firewall::ApplyReport preview, site->PreviewPolicy());
  const std::string& diff = preview.diff;
  output.Print(Json{{"diff", diff}, {"applied", applied.has_value()}},
               diff.empty() ? "no change: the policy in force is current" : diff);
  return OkStatus();
}

Status PolicyApply(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, args.tls_cas, args.trust_expired_signers));
  mud::RefreshReport names;
  RETURN_IF_ERROR(site->mud_manager().RefreshNames(false, names));
  ASSIGN_OR_RETURN(auto report, EnforceNow(*site, args.dry_run));
  std::string text = Summary(report);
  if (args.dry_run) {
    text += report.diff.empty() ? "no change against the policy in force\n" : report.diff;
  }
  output.Print(ReportJson(report), text);
  return OkStatus();
}

Status PolicyCompile(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(std::string facts_text, ReadFile(args.facts));
  ASSIGN_OR_RETURN_CTX(auto facts, mud::ParseSiteFactsJson(facts_text), args.facts);
  std::vector<mud::MudFile> files;
  for (const std::string& path : args.mud_files) {
    ASSIGN_OR_RETURN(std::string body, ReadFile(path));
    ASSIGN_OR_RETURN_CTX(auto file, mud::ParseMudJson(body), path);
    files.push_back(std::move(file));
  }
  ASSIGN_OR_RETURN(auto policy, mud::CompilePolicy(files, facts.facts, facts.names));
  std::string text = firewall::RenderRuleset(
      policy, args.linear ? firewall::Dispatch::kLinearList : firewall::Dispatch::kAddressMap);
  output.Print(Json{{"ruleset", text}}, text);
  return OkStatus();
}

// FactText is how an operator types a fact: "KIND [KEY] VALUE".
std::string FactText(const std::string& kind, const std::string& key, const std::string& value) {
  std::string text = kind;
  for (const std::string* part : {&key, &value}) {
    if (!part->empty()) {
      text += ' ';
      text += *part;
    }
  }
  return text;
}

Status FactAdd(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, args.tls_cas, args.trust_expired_signers));
  // Kinds with a key take KEY VALUE; the others take only VALUE.
  bool keyed = args.fact_kind == mud::kFactController || args.fact_kind == mud::kFactMyController;
  std::string key = keyed ? args.fact_key : "";
  std::string value = keyed ? args.fact_value : args.fact_key;
  if (value.empty() || (!keyed && !args.fact_value.empty())) {
    return MakeError(ErrorCode::kInvalidArgument, keyed
                                                      ? args.fact_kind + " takes a key and a value"
                                                      : args.fact_kind + " takes one value");
  }
  RETURN_IF_ERROR(site->mud_store().AddFact(args.fact_kind, key, value));
  output.Print(Json{{"kind", args.fact_kind}, {"key", key}, {"value", value}},
               "fact added: " + FactText(args.fact_kind, key, value));
  return OkStatus();
}

Status FactRemove(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, args.tls_cas, args.trust_expired_signers));
  bool keyed = args.fact_kind == mud::kFactController || args.fact_kind == mud::kFactMyController;
  std::string key = keyed ? args.fact_key : "";
  std::string value = keyed ? args.fact_value : args.fact_key;
  RETURN_IF_ERROR(site->mud_store().RemoveFact(args.fact_kind, key, value));
  output.Print(Json{{"removed", true}}, "fact removed");
  return OkStatus();
}

Status FactList(const PolicyArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto site, OpenPolicySite(args.dir, args.tls_cas, args.trust_expired_signers));
  ASSIGN_OR_RETURN(auto facts, site->mud_store().ListFacts());
  Json list = Json::array();
  std::string text;
  for (const auto& [kind, key, value] : facts) {
    list.push_back(Json{{"kind", kind}, {"key", key}, {"value", value}});
    text += FactText(kind, key, value) + "\n";
  }
  output.Print(list, text.empty() ? "no facts" : text);
  return OkStatus();
}

}  // namespace

void AddPolicyCommands(CLI::App& app, Action& action, Output& output) {
  auto args = std::make_shared<PolicyArgs>();
  auto bind = [&action, &output, args](CLI::App* command,
                                       Status (*body)(const PolicyArgs&, const Output&)) {
    AddSiteDir(*command, args->dir);
    command->add_flag("--json", output.json, "Print JSON");
    command->callback([&action, &output, args, body] {
      action = [&output, args, body] { return body(*args, output); };
    });
  };
  auto fetch_options = [args](CLI::App* command) {
    command->add_option("--tls-ca", args->tls_cas,
                        "Also trust this CA for HTTPS to MUD servers (PEM; repeatable)");
    command->add_flag("--trust-expired-signers", args->trust_expired_signers,
                      "Accept a signer certificate that expired after it signed");
  };

  CLI::App* mud = app.add_subcommand("mud", "MUD URLs and files (RFC 8520)");
  mud->require_subcommand(1);
  CLI::App* trust = mud->add_subcommand("trust", "Trust a CA to sign one maker's MUD files");
  trust->add_option("authority", args->authority, "The MUD URLs' host, e.g. mud.acme.example")
      ->required();
  trust->add_option("--ca", args->ca, "The signer's CA certificate (PEM)")->required();
  bind(trust, Trust);
  CLI::App* assign = mud->add_subcommand("assign", "Set a device's MUD URL by hand");
  assign->add_option("device", args->device, "Device name (a serial, or mac-…)")->required();
  assign->add_option("url", args->url, "MUD URL")->required();
  assign->add_option("--address", args->addresses, "The device's IP address (repeatable)");
  bind(assign, Assign);
  CLI::App* address = mud->add_subcommand("address", "Set a device's IP addresses by hand");
  address->add_option("device", args->device, "Device name")->required();
  address->add_option("addresses", args->addresses, "IP addresses (replace the known ones)")
      ->required();
  bind(address, Address);
  CLI::App* seen = mud->add_subcommand("seen", "Record a DHCP lease (for a DHCP server's hook)");
  seen->add_option("--mac", args->mac, "Client MAC address")->required();
  seen->add_option("--ip", args->ip, "Leased address")->required();
  seen->add_option("--mud-url", args->url, "DHCP option 161 (MUD URL), if the client sent one");
  bind(seen, Seen);
  CLI::App* load = mud->add_subcommand("load", "Accept a MUD file and signature from disk");
  load->add_option("--file", args->file, "MUD file (JSON)")->required();
  load->add_option("--signature", args->signature, "Detached CMS signature (DER)")->required();
  fetch_options(load);
  bind(load, Load);
  CLI::App* check = mud->add_subcommand(
      "check",
      "Check a MUD file as a site would, with no site: errors, warnings, rules, signature");
  check->add_option("file", args->file, "MUD file (JSON)")->required();
  check->add_option("--signature", args->signature, "Its detached CMS signature (DER)");
  check->add_option("--ca", args->ca, "The CA its signer chains to (PEM)");
  check->add_flag("--trust-expired-signers", args->trust_expired_signers,
                  "Accept a signer certificate that expired after it signed");
  check->add_flag("--json", output.json, "Print JSON");
  check->callback(
      [&action, &output, args] { action = [&output, args] { return Check(*args, output); }; });
  CLI::App* show = mud->add_subcommand("show", "Devices, their MUD URLs and files");
  show->add_option("device", args->device, "Only this device");
  bind(show, Show);
  CLI::App* refresh =
      mud->add_subcommand("refresh", "Fetch due MUD files, re-resolve due names, re-apply");
  refresh->add_flag("--force", args->force, "Fetch and resolve everything, due or not");
  refresh->add_flag("--no-apply", args->no_apply, "Do not re-apply the policy");
  refresh->add_option("--every", args->every,
                      "Keep running: a round every N seconds (names are re-resolved when "
                      "their TTL runs out, files when their cache-validity does)");
  fetch_options(refresh);
  bind(refresh, Refresh);

  CLI::App* policy = app.add_subcommand("policy", "The nftables policy that enforces MUD");
  policy->require_subcommand(1);
  CLI::App* policy_show = policy->add_subcommand("show", "Print the compiled nft ruleset");
  policy_show->add_option("--device", args->device, "Only what applies to this device");
  policy_show->add_flag("--linear", args->linear, "Per-device rule list instead of maps");
  bind(policy_show, PolicyShow);
  CLI::App* diff =
      policy->add_subcommand("diff", "Compare the compiled policy with the one in force");
  bind(diff, PolicyDiff);
  CLI::App* apply = policy->add_subcommand("apply", "Make the compiled policy the firewall's");
  apply->add_flag("--dry-run", args->dry_run, "Only have the kernel check it");
  bind(apply, PolicyApply);
  CLI::App* compile =
      policy->add_subcommand("compile", "Compile MUD files with facts from a JSON file (offline)");
  compile->add_option("--facts", args->facts, "Site facts (JSON)")->required();
  compile->add_option("--mud", args->mud_files, "MUD file (repeatable)")->required();
  compile->add_flag("--linear", args->linear, "Per-device rule list instead of maps");
  compile->add_flag("--json", output.json, "Print JSON");
  compile->callback([&action, &output, args] {
    action = [&output, args] { return PolicyCompile(*args, output); };
  });
  CLI::App* fact = policy->add_subcommand("fact", "Site facts the MUD abstractions refer to");
  fact->require_subcommand(1);
  using Body = Status (*)(const PolicyArgs&, const Output&);
  for (auto [name, body, help] :
       {std::tuple<const char*, Body, const char*>{"add", FactAdd, "Add a fact"},
        std::tuple<const char*, Body, const char*>{"remove", FactRemove, "Remove a fact"}}) {
    CLI::App* command = fact->add_subcommand(name, help);
    command
        ->add_option("kind", args->fact_kind,
                     "local-network | controller | my-controller | dns-server")
        ->required();
    command
        ->add_option("key", args->fact_key,
                     "controller: class URI; my-controller: MUD URL; else the value")
        ->required();
    command->add_option("value", args->fact_value, "The address or network (keyed kinds)");
    bind(command, body);
  }
  bind(fact->add_subcommand("list", "List facts"), FactList);
}

}  // namespace concierge::app
