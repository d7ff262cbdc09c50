#include <iostream>
#include <memory>

#include "app/cli.h"
#include "app/site_controller.h"
#include "common/files.h"
#include "crypto/crl.h"
#include "registrar/registrar_http.h"

namespace concierge::app {
namespace {

struct OwnershipArgs {
  std::string dir;
  std::string to;
  std::string registrar;
  std::vector<std::string> devices;
  bool all = false;
  std::string out;
  std::string bundle;
};

struct OwnerKey {
  Bytes key;         // SubjectPublicKeyInfo DER
  std::string name;  // for the audit log
};

// ReadOwnerKey takes the new owner's domain CA certificate, or a bare public key, in PEM.
Result<OwnerKey> ReadOwnerKey(const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  constexpr std::string_view kBegin = "-----BEGIN PUBLIC KEY-----";
  constexpr std::string_view kEnd = "-----END PUBLIC KEY-----";
  if (auto begin = pem.find(kBegin); begin != std::string::npos) {
    auto end = pem.find(kEnd, begin);
    if (end == std::string::npos) {
      return MakeError(ErrorCode::kBadFormat, path + ": unterminated PUBLIC KEY block");
    }
    size_t body = begin + kBegin.size();
    ASSIGN_OR_RETURN_CTX(Bytes der, Base64DecodeLenient(pem.substr(body, end - body)), path);
    ASSIGN_OR_RETURN_CTX(auto key, crypto::PublicKeyFromDer(der), path);
    ASSIGN_OR_RETURN(Bytes spki, crypto::PublicKeyDer(key.get()));
    return OwnerKey{spki, "key sha256:" + HexEncode(crypto::Sha256(spki))};
  }
  ASSIGN_OR_RETURN_CTX(auto certificate, crypto::Certificate::FromPem(pem),
                       path + " (expected the new owner's domain CA certificate or public key)");
  ASSIGN_OR_RETURN(Bytes spki, certificate.PublicKeyDer());
  return OwnerKey{spki, certificate.SubjectText()};
}

Status Export(const OwnershipArgs& args, const Output& output) {
  if (args.all == !args.devices.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "name the devices (--devices) or give --all");
  }
  ASSIGN_OR_RETURN(OwnerKey new_owner, ReadOwnerKey(args.to));
  ASSIGN_OR_RETURN(auto controller, OpenSiteController(args.dir));
  ASSIGN_OR_RETURN(auto bundle, controller->ownership->Export(
                                    {new_owner.key, new_owner.name, args.registrar, args.devices}));
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
  ASSIGN_OR_RETURN(auto controller, OpenSiteController(args.dir));
  ASSIGN_OR_RETURN(auto report, controller->ownership->Import(bundle));
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

Status Crl(const OwnershipArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto controller, OpenSiteController(args.dir));
  ASSIGN_OR_RETURN(Bytes der, controller->ownership->Crl());
  ASSIGN_OR_RETURN(std::string pem, crypto::CrlToPem(der));
  ASSIGN_OR_RETURN(auto revoked, controller->store->ListRevocations());
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
  out->add_option("--dir", args->dir, "Site state directory")->required();
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
  in->add_option("--dir", args->dir, "Site state directory")->required();
  in->add_option("bundle", args->bundle, "Transfer bundle from `transfer export`")->required();
  in->add_flag("--json", output.json, "Print JSON");
  bind(in, Import);

  CLI::App* crl = app.add_subcommand("crl", "The domain CA's certificate revocation list");
  crl->add_option("--dir", args->dir, "Site state directory")->required();
  crl->add_option("--out", args->out, "Write PEM here (default: standard output)");
  crl->add_flag("--json", output.json, "Print JSON");
  bind(crl, Crl);
}

}  // namespace concierge::app
