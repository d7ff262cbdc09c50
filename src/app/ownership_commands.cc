#include <iostream>
#include <memory>
#include <tuple>

#include "app/cli.h"
#include "app/key_files.h"
#include "app/open_site.h"
#include "common/files.h"
#include "crypto/crl.h"
#include "crypto/key_store.h"
#include "ownership/chain.h"
#include "registrar/https_masa_client.h"
#include "registrar/registrar_http.h"

namespace concierge::app {
namespace {

struct OwnershipArgs {
  std::string dir;
  std::string serial;
  std::vector<std::string> agents;
  int threshold = 0;
  std::string key;
  std::string masa_url;
  std::string masa_ca;
  bool device_gone = false;
  std::string to;
  std::string registrar;
  std::vector<std::string> devices;
  bool all = false;
  std::string out;
  std::string bundle;
};

Status Export(const OwnershipArgs& args, const Output& output) {
  if (args.all == !args.devices.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "name the devices (--devices) or give --all");
  }
  ASSIGN_OR_RETURN(PublicKeyFile new_owner, ReadPublicKeyFile(args.to));
  ASSIGN_OR_RETURN(auto controller, OpenSite(args.dir));
  ASSIGN_OR_RETURN(auto bundle, controller->ownership().Export(
                                    {new_owner.key, new_owner.name, args.registrar, args.devices},
                                    LocalActor()));
  RETURN_IF_ERROR(WriteFileAtomic(args.out, ownership::EncodeBundle(bundle), 0600));
  Json serials = Json::array();
  for (const auto& device : bundle.devices) {
    serials.push_back(device.serial);
  }
  output.Print(Json{{"bundle", args.out}, {"devices", serials}, {"registrar", args.registrar}},
               std::to_string(bundle.devices.size()) + " device(s) exported to " + args.out +
                   "; each will move to " + args.registrar +
                   " at its next check-in, once the new owner imports the bundle");
  return OkStatus();
}

Status Import(const OwnershipArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(args.bundle, 64 << 20));
  ASSIGN_OR_RETURN_CTX(auto bundle, ownership::DecodeBundle(text), args.bundle);
  ASSIGN_OR_RETURN(auto controller, OpenSite(args.dir));
  ASSIGN_OR_RETURN(auto report, controller->ownership().Import(bundle));
  std::string text_out = std::to_string(report.devices) + " device(s) from \"" + bundle.from +
                         "\" recorded as this site's at their MASAs";
  for (const std::string& maker : report.makers_added) {
    text_out += "\n  now trusting maker \"" + maker + "\" (from the bundle)";
  }
  output.Print(Json{{"devices", report.devices},
                    {"from", bundle.from},
                    {"makers_added", report.makers_added}},
               text_out);
  return OkStatus();
}

Status ShowChain(const OwnershipArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto controller, OpenSite(args.dir));
  ASSIGN_OR_RETURN(site::DeviceOwnership owned, controller->OwnershipOf(args.serial));
  const ownership::OwnershipChain& chain = owned.chain;
  const Bytes& own = owned.site_key;
  Json entries = Json::array();
  std::string text = args.serial + " (maker " + chain.header().maker + ", " +
                     KeyName(chain.header().maker_key) + ")\n";
  for (const auto& entry : chain.entries()) {
    std::string to = entry.next_owner_key == own ? "this site"
                     : entry.next_owner_key == chain.header().maker_key
                         ? "the maker"
                         : KeyName(entry.next_owner_key);
    entries.push_back({{"index", entry.index},
                       {"kind", ownership::EntryKindName(entry.kind)},
                       {"issued_at", FormatRfc3339(FromUnixMillis(entry.issued_at))},
                       {"to", to}});
    text += "  " + std::to_string(entry.index) + "  " +
            std::string(ownership::EntryKindName(entry.kind)) + "  " +
            FormatRfc3339(FromUnixMillis(entry.issued_at)) + "  -> " + to + "\n";
  }
  bool ours = owned.OwnedByThisSite();
  text += ours ? "owned by this site" : "not owned by this site";
  output.Print(Json{{"serial", args.serial}, {"entries", entries}, {"owned_by_this_site", ours}},
               text);
  return OkStatus();
}

Status SayStatement(const OwnershipArgs& args, const Output& output, ownership::Action action) {
  ASSIGN_OR_RETURN(auto controller, OpenSite(args.dir));
  ownership::Statement statement;
  statement.action = action;
  if (action == ownership::Action::kSetEscrow) {
    if (args.agents.empty() || args.threshold < 1 ||
        static_cast<size_t>(args.threshold) > args.agents.size()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "escrow needs --agents and a --threshold from 1 to their number");
    }
    for (const std::string& agent : args.agents) {
      ASSIGN_OR_RETURN(PublicKeyFile key, ReadPublicKeyFile(agent));
      statement.agents.push_back(key.key);
    }
    statement.threshold = args.threshold;
  }
  ASSIGN_OR_RETURN(std::string answer,
                   controller->ownership().SubmitStatement(args.serial, statement));
  output.Print(
      Json{{"serial", args.serial}, {"statement", ownership::ActionName(action)}, {"masa", answer}},
      args.serial + ": " + answer);
  return OkStatus();
}

Status ReportStolen(const OwnershipArgs& args, const Output& output) {
  return SayStatement(args, output, ownership::Action::kReportStolen);
}

Status ClearStolen(const OwnershipArgs& args, const Output& output) {
  return SayStatement(args, output, ownership::Action::kClearStolen);
}

Status SetEscrow(const OwnershipArgs& args, const Output& output) {
  return SayStatement(args, output, ownership::Action::kSetEscrow);
}

Status AgentKey(const OwnershipArgs& args, const Output& output) {
  return WriteSigningKeyPair(args.out, "escrow agent", output);
}

// Approve is an escrow agent's signed approval to hand a device to a new owner; the MASA
// extends the chain when the owner's threshold is reached.
Status Approve(const OwnershipArgs& args, const Output& output) {
  ASSIGN_OR_RETURN_CTX(auto key, crypto::DefaultKeyStore().Load(args.key), "--key");
  ASSIGN_OR_RETURN(PublicKeyFile to, ReadPublicKeyFile(args.to));
  ASSIGN_OR_RETURN(std::string ca_pem, ReadFile(args.masa_ca));
  ASSIGN_OR_RETURN_CTX(auto anchors, crypto::Certificate::FromPemChain(ca_pem), args.masa_ca);
  ownership::Statement statement;
  statement.action = ownership::Action::kApproveEscrow;
  statement.device_id = args.serial;
  statement.issued_at = ToUnixMillis(SystemClock().Now());
  statement.subject_key = to.key;
  ASSIGN_OR_RETURN(Bytes signed_statement, ownership::SignStatement(key, statement));
  registrar::HttpsMasaClient masa(std::nullopt, [anchors] { return anchors; });
  std::string url =
      args.masa_url.starts_with("https://") ? args.masa_url : "https://" + args.masa_url;
  ASSIGN_OR_RETURN(std::string answer, masa.SubmitStatement(url, signed_statement));
  output.Print(Json{{"serial", args.serial}, {"to", to.name}, {"masa", answer}},
               args.serial + ": " + answer);
  return OkStatus();
}

Status Decommission(const OwnershipArgs& args, const Output& output) {
  if (args.devices.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "name the devices to decommission (--devices)");
  }
  ASSIGN_OR_RETURN(auto controller, OpenSite(args.dir));
  Json done = Json::array();
  std::string text;
  for (const std::string& serial : args.devices) {
    ASSIGN_OR_RETURN_CTX(
        std::string what,
        controller->ownership().Decommission(serial, args.device_gone, LocalActor()), serial);
    done.push_back({{"serial", serial}, {"done", what}});
    text.append(serial).append(": ").append(what).append("\n");
  }
  text += "(run `concierge policy apply` to remove their network policy now)";
  output.Print(Json{{"decommissioned", done}}, text);
  return OkStatus();
}

Status Crl(const OwnershipArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto controller, OpenSite(args.dir));
  ASSIGN_OR_RETURN(Bytes der, controller->ownership().Crl());
  ASSIGN_OR_RETURN(std::string pem, crypto::CrlToPem(der));
  ASSIGN_OR_RETURN(auto revoked, controller->store().ListRevocations());
  if (args.out.empty()) {
    std::cout << pem;
    return OkStatus();
  }
  RETURN_IF_ERROR(WriteFileAtomic(args.out, pem, 0644));
  output.Print(Json{{"crl", args.out}, {"revoked", revoked.size()}},
               "CRL with " + std::to_string(revoked.size()) +
                   " revoked certificate(s) written to " + args.out);
  return OkStatus();
}

}  // namespace

void AddOwnershipCommands(CLI::App& app, Action& action, Output& output) {
  auto args = std::make_shared<OwnershipArgs>();
  auto bind = [&action, &output, args](CLI::App* command,
                                       Status (*body)(const OwnershipArgs&, const Output&)) {
    command->callback([&action, &output, args, body] {
      action = [&output, args, body] { return body(*args, output); };
    });
  };

  CLI::App* transfer = app.add_subcommand("transfer", "Hand devices to a new owner");
  transfer->require_subcommand(1);
  CLI::App* out = transfer->add_subcommand(
      "export", "Sign the devices over to a new owner and tell them to move");
  AddSiteDir(*out, args->dir);
  out->add_option("--to", args->to, "The new owner's domain CA certificate (or public key), PEM")
      ->required();
  out->add_option("--registrar", args->registrar, "The new owner's registrar, https://HOST:PORT")
      ->required();
  out->add_option("--devices", args->devices, "Device serials")->delimiter(',');
  out->add_flag("--all", args->all, "Every enrolled device");
  out->add_option("--out", args->out, "Where to write the transfer bundle")->required();
  out->add_flag("--json", output.json, "Print JSON");
  bind(out, Export);
  CLI::App* in = transfer->add_subcommand(
      "import", "Take over the devices in a bundle: record their chains at their MASAs");
  AddSiteDir(*in, args->dir);
  in->add_option("bundle", args->bundle, "Transfer bundle from `transfer export`")->required();
  in->add_flag("--json", output.json, "Print JSON");
  bind(in, Import);

  CLI::App* owner = app.add_subcommand("ownership", "Devices' ownership chains at their MASAs");
  owner->require_subcommand(1);
  CLI::App* show = owner->add_subcommand("show", "The device's ownership chain");
  AddSiteDir(*show, args->dir);
  show->add_option("serial", args->serial, "Device serial")->required();
  show->add_flag("--json", output.json, "Print JSON");
  bind(show, ShowChain);
  for (auto [name, help, body] :
       {std::tuple{"report-stolen", "No voucher for anyone until the report is cleared",
                   &ReportStolen},
        std::tuple{"clear-stolen", "The device is back: vouchers again", &ClearStolen}}) {
    CLI::App* command = owner->add_subcommand(name, help);
    AddSiteDir(*command, args->dir);
    command->add_option("serial", args->serial, "Device serial")->required();
    command->add_flag("--json", output.json, "Print JSON");
    bind(command, body);
  }
  CLI::App* escrow = owner->add_subcommand(
      "escrow", "Register escrow agents: THRESHOLD of them may hand the device on");
  AddSiteDir(*escrow, args->dir);
  escrow->add_option("serial", args->serial, "Device serial")->required();
  escrow->add_option("--agents", args->agents, "Agents' public keys (PEM)")
      ->delimiter(',')
      ->required();
  escrow->add_option("--threshold", args->threshold, "Approvals needed")->required();
  escrow->add_flag("--json", output.json, "Print JSON");
  bind(escrow, SetEscrow);
  CLI::App* agent_key = owner->add_subcommand("agent-key", "Make an escrow agent's key pair");
  agent_key->add_option("--out", args->out, "Writes OUT.key and OUT.pub.pem")->required();
  agent_key->add_flag("--json", output.json, "Print JSON");
  bind(agent_key, AgentKey);
  CLI::App* approve = owner->add_subcommand(
      "approve", "As an escrow agent, approve handing a device to a new owner");
  approve
      ->add_option("--key", args->key,
                   "The agent's private key: a PEM file or a key URI (docs/keys.md)")
      ->required();
  approve->add_option("--masa-url", args->masa_url, "The device's MASA, https://HOST:PORT")
      ->required();
  approve->add_option("--masa-ca", args->masa_ca, "CA that authenticates the MASA (PEM)")
      ->required();
  approve->add_option("--to", args->to, "The new owner's domain CA certificate (or key), PEM")
      ->required();
  approve->add_option("serial", args->serial, "Device serial")->required();
  approve->add_flag("--json", output.json, "Print JSON");
  bind(approve, Approve);

  CLI::App* retire = app.add_subcommand(
      "decommission", "Release devices at their MASAs, revoke their LDevIDs, reset them");
  AddSiteDir(*retire, args->dir);
  retire->add_option("--devices", args->devices, "Device serials")->delimiter(',');
  retire->add_flag("--device-gone", args->device_gone,
                   "The device is lost or dead: end its membership now, not at its reset");
  retire->add_flag("--json", output.json, "Print JSON");
  bind(retire, Decommission);

  CLI::App* crl = app.add_subcommand("crl", "The domain CA's certificate revocation list");
  AddSiteDir(*crl, args->dir);
  crl->add_option("--out", args->out, "Write PEM here (default: standard output)");
  crl->add_flag("--json", output.json, "Print JSON");
  bind(crl, Crl);
}

}  // namespace concierge::app
