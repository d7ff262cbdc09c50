#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cli.h"
#include "common/files.h"
#include "common/random.h"
#include "crypto/certificate_builder.h"
#include "crypto/cms.h"
#include "crypto/key_store.h"
#include "http/https_server.h"
#include "masa/maker_directory.h"
#include "masa/masa_http.h"
#include "mud/mud_parser.h"
#include "mud/mud_signature.h"
#include "pledge/device_directory.h"
#include "store/audit_log.h"
#include "voucher/voucher.h"

namespace concierge::app {
namespace {

// A MASA answers one call per enrollment from each registrar: fewer threads than a registrar.
http::ServerOptions MasaServerOptions() {
  http::ServerOptions options;
  options.workers = 16;
  return options;
}

struct MakerArgs {
  std::string dir;
  std::string name;
  std::string masa_url = "localhost:9443";
  std::string database;
  std::string metrics_listen;
  std::string serial;
  int count = 1;
  std::string mud_url;
  std::string out;
  int valid_days = 0;
  std::string listen = "127.0.0.1:9443";
  http::ServerOptions server = MasaServerOptions();
  std::string domain_ca;
  std::string file;
};

std::string CountedSerial(const std::string& base, int index, int count) {
  if (count == 1) {
    return base;
  }
  char suffix[16];
  (void)std::snprintf(suffix, sizeof(suffix), "-%04d", index + 1);
  return base + suffix;
}

Status Init(const MakerArgs& args, const Output& output) {
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(auto maker, masa::InitMakerDirectory(args.dir, args.name, args.masa_url, clock,
                                                        random, args.database));
  ASSIGN_OR_RETURN(auto store, masa::MakerStore::Open(maker.DatabaseLocation(), clock));
  output.Print(Json{{"dir", args.dir},
                    {"name", maker.name},
                    {"masa_url", maker.masa_url},
                    {"ca", (maker.dir / "ca.pem").string()}},
               "maker \"" + maker.name + "\" initialised in " + args.dir + "\n  CA: " +
                   (maker.dir / "ca.pem").string() + "\n  MASA URL in IDevIDs: " + maker.masa_url);
  return OkStatus();
}

Status Mint(const MakerArgs& args, const Output& output) {
  if (args.count < 1 || args.count > 100000) {
    return MakeError(ErrorCode::kInvalidArgument, "--count must be 1 to 100000");
  }
  SystemClock clock;
  CryptoRandom random;
  ASSIGN_OR_RETURN(auto maker, masa::LoadMakerDirectory(args.dir));
  if (!args.masa_url.empty()) {
    maker.masa_url = args.masa_url;
  }
  ASSIGN_OR_RETURN(auto store, masa::MakerStore::Open(maker.DatabaseLocation(), clock));
  Json minted = Json::array();
  std::string text;
  for (int i = 0; i < args.count; ++i) {
    masa::MintRequest request{CountedSerial(args.serial, i, args.count), args.mud_url,
                              std::nullopt};
    if (args.valid_days > 0) {
      request.validity = std::chrono::hours(24 * args.valid_days);
    }
    ASSIGN_OR_RETURN(auto identity, masa::MintIdevid(maker, *store, request, clock, random));
    std::filesystem::path dir = args.count == 1 ? std::filesystem::path(args.out)
                                                : std::filesystem::path(args.out) / request.serial;
    RETURN_IF_ERROR(pledge::WriteDeviceDirectory(dir, identity.idevid, identity.key,
                                                 identity.provenance,
                                                 {maker.masa.maker_ca, maker.masa.signer}));
    ASSIGN_OR_RETURN(std::string reset_code, pledge::WriteResetCode(dir, random));
    // label.txt stands for the sticker on the device: readable by a person holding it.
    RETURN_IF_ERROR(WriteFileAtomic(
        dir / "label.txt", "serial: " + request.serial + "\nreset code: " + reset_code + "\n"));
    minted.push_back({{"serial", request.serial},
                      {"dir", dir.string()},
                      {"certificate_serial", identity.idevid.SerialHex()},
                      {"reset_code", reset_code}});
    text += "minted " + request.serial + " -> " + dir.string() + "\n";
  }
  output.Print(Json{{"minted", minted}}, text);
  return OkStatus();
}

// ServeMudFile answers GET /mud/NAME from the maker's published MUD files and signatures.
http::HttpResponse ServeMudFile(const std::filesystem::path& dir,
                                const http::HttpRequest& request) {
  std::string name = request.target.substr(5);
  bool plain = !name.empty() && name.find_first_of("/\\?#") == std::string::npos &&
               name.find("..") == std::string::npos;
  if (request.method != "GET" || !plain) {
    return http::MakeErrorResponse(Error(ErrorCode::kNotFound, "no such MUD file"));
  }
  auto body = ReadFile(dir / "mud" / name);
  if (!body) {
    return http::MakeErrorResponse(Error(ErrorCode::kNotFound, "no such MUD file: " + name));
  }
  return http::MakeResponse(
      200, name.ends_with(".p7s") ? "application/pkcs7-signature" : "application/mud+json",
      std::move(*body));
}

Status Serve(const MakerArgs& args) {
  SystemClock clock;
  ASSIGN_OR_RETURN(auto maker, masa::LoadMakerDirectory(args.dir));
  ASSIGN_OR_RETURN(auto store, masa::MakerStore::Open(maker.DatabaseLocation(), clock));
  masa::MasaService service(*store, clock, maker.masa);
  std::filesystem::path dir = args.dir;
  return ServeUntilTerminated(
      args.dir, args.listen, args.server, maker.tls, "masa",
      "MASA for \"" + maker.name + "\" listening on ",
      [&service, dir](const http::HttpRequest& request, const http::ConnectionInfo& connection,
                      const http::Respond& respond) {
        respond(request.target.starts_with("/mud/")
                    ? ServeMudFile(dir, request)
                    : masa::HandleMasaRequest(service, request, connection));
      },
      args.metrics_listen);
}

// MudSigner loads the maker's MUD signing certificate for host, issuing it under the maker CA
// on first use: the certificate names the host, binding the signature to the MUD URL.
Result<crypto::KeyAndCertificate> MudSigner(const masa::MakerDirectory& maker,
                                            const std::string& host) {
  std::filesystem::path dir = maker.dir / "mud-signer";
  crypto::KeyReferences references(dir);
  if (std::filesystem::exists(dir / (host + ".pem"))) {
    return crypto::LoadKeyPair(crypto::DefaultKeyStore(), references, dir, host);
  }
  SystemClock clock;
  CryptoRandom random;
  auto spec = crypto::NewCertificateSpec({"MUD signer " + host, "", maker.name}, clock.Now(),
                                         std::chrono::hours(24 * 365 * 5), random);
  spec.subject_alt_names = (IsIpLiteral(host) ? "IP:" : "DNS:") + host;
  spec.key_usage = "digitalSignature";
  ASSIGN_OR_RETURN(auto signer, crypto::IssueWithNewKey(spec, &maker.masa.maker_ca, &maker.ca_key));
  RETURN_IF_ERROR(MakeDirectories(dir));
  RETURN_IF_ERROR(crypto::KeepKeyPair(crypto::DefaultKeyStore(), references, dir, host, signer));
  return signer;
}

Status MudSign(const MakerArgs& args, const Output& output) {
  ASSIGN_OR_RETURN(auto maker, masa::LoadMakerDirectory(args.dir));
  ASSIGN_OR_RETURN(std::string body, ReadFile(args.file));
  ASSIGN_OR_RETURN_CTX(auto file, mud::ParseMudJson(body), args.file);
  ASSIGN_OR_RETURN_CTX(Url url, ParseHttpsUrl(file.mud_url), "mud-url");
  ASSIGN_OR_RETURN(auto signer, MudSigner(maker, url.host));
  ASSIGN_OR_RETURN(Bytes signature, crypto::CmsSign(AsBytes(body), signer.certificate, signer.key,
                                                    {}, {.detached = true}));
  // Published under the names the URL and its signature URL end in, for `maker serve`.
  std::string name = url.path.substr(url.path.rfind('/') + 1);
  std::string signature_url = mud::SignatureUrl(file);
  std::string signature_name = signature_url.substr(signature_url.rfind('/') + 1);
  std::filesystem::path published = maker.dir / "mud";
  RETURN_IF_ERROR(MakeDirectories(published));
  RETURN_IF_ERROR(WriteFileAtomic(published / name, body));
  RETURN_IF_ERROR(WriteFileAtomic(published / signature_name, ToString(signature)));
  output.Print(Json{{"mud_url", file.mud_url},
                    {"signature_url", signature_url},
                    {"file", (published / name).string()},
                    {"signature", (published / signature_name).string()},
                    {"signer", signer.certificate.SubjectText()}},
               "signed " + file.mud_url +
                   "\n  signature: " + (published / signature_name).string() +
                   "\n  signer:    " + signer.certificate.SubjectText());
  return OkStatus();
}

Status Sell(const MakerArgs& args, const Output& output) {
  SystemClock clock;
  ASSIGN_OR_RETURN(auto maker, masa::LoadMakerDirectory(args.dir));
  ASSIGN_OR_RETURN(auto store, masa::MakerStore::Open(maker.DatabaseLocation(), clock));
  ASSIGN_OR_RETURN(std::string pem, ReadFile(args.domain_ca));
  ASSIGN_OR_RETURN_CTX(auto ca, crypto::Certificate::FromPem(pem), args.domain_ca);
  std::string domain = voucher::DomainId(ca);
  RETURN_IF_ERROR(store->RecordSale(args.serial, domain));
  output.Print(Json{{"serial", args.serial}, {"sold_to", domain}},
               "sale recorded: " + args.serial + " may next be claimed by domain " + domain);
  return OkStatus();
}

// AuditVerify walks the MASA's audit chain (every mint, sale, voucher and ownership change),
// as `audit verify` does the site's.
Status AuditVerify(const MakerArgs& args, const Output& output) {
  SystemClock clock;
  ASSIGN_OR_RETURN(auto maker, masa::LoadMakerDirectory(args.dir));
  ASSIGN_OR_RETURN(auto store, masa::MakerStore::Open(maker.DatabaseLocation(), clock));
  ASSIGN_OR_RETURN(auto records, store::ReadAuditEvents(store->database()));
  RETURN_IF_ERROR(store::VerifyAuditChain(records));
  std::string head = records.empty() ? "" : HexEncode(records.back().hash);
  output.Print(Json{{"events", records.size()}, {"head", head}, {"intact", true}},
               "audit chain intact: " + std::to_string(records.size()) + " events, head " +
                   (head.empty() ? "(empty)" : head));
  return OkStatus();
}

}  // namespace

void AddMakerCommands(CLI::App& app, Action& action, Output& output) {
  auto args = std::make_shared<MakerArgs>();
  CLI::App* maker = app.add_subcommand("maker", "The maker's side: IDevIDs and the MASA");
  maker->require_subcommand(1);

  CLI::App* init = maker->add_subcommand("init", "Create a maker CA and MASA identities");
  AddMakerDir(*init, args->dir);
  init->add_option("--name", args->name, "Maker name")->required();
  init->add_option("--masa-url", args->masa_url, "MASA authority or URL that IDevIDs will carry")
      ->capture_default_str();
  init->add_option("--db", args->database,
                   "Keep the maker's records in PostgreSQL (postgresql://…), shared by several "
                   "MASA processes, instead of DIR/maker.db");
  init->add_flag("--json", output.json, "Print JSON");
  init->callback(
      [&action, &output, args] { action = [&output, args] { return Init(*args, output); }; });

  CLI::App* mint = maker->add_subcommand("mint", "Make device identities (IDevIDs)");
  AddMakerDir(*mint, args->dir);
  mint->add_option("--serial", args->serial, "Serial number (a prefix with --count)")->required();
  mint->add_option("--count", args->count, "How many devices");
  mint->add_option("--mud-url", args->mud_url, "MUD URL to put in the IDevID");
  mint->add_option("--masa-url", args->masa_url, "Override the maker's MASA URL");
  mint->add_option("--valid-days", args->valid_days, "IDevID lifetime (default: never expires)");
  mint->add_option("--out", args->out, "Device directory (parent directory with --count)")
      ->required();
  mint->add_flag("--json", output.json, "Print JSON");
  mint->callback([&action, &output, args, mint] {
    if (mint->count("--masa-url") == 0) {
      args->masa_url.clear();
    }
    action = [&output, args] { return Mint(*args, output); };
  });

  CLI::App* serve = maker->add_subcommand("serve", "Run the MASA over HTTPS");
  AddMakerDir(*serve, args->dir);
  serve->add_option("--listen", args->listen, "HOST:PORT (port 0 picks one)")
      ->capture_default_str();
  AddServerOptions(*serve, args->server, args->metrics_listen);
  serve->callback([&action, args] { action = [args] { return Serve(*args); }; });

  CLI::App* mud_sign =
      maker->add_subcommand("mud-sign", "Sign a MUD file and publish it for `maker serve`");
  AddMakerDir(*mud_sign, args->dir);
  mud_sign->add_option("--file", args->file, "MUD file (JSON)")->required();
  mud_sign->add_flag("--json", output.json, "Print JSON");
  mud_sign->callback(
      [&action, &output, args] { action = [&output, args] { return MudSign(*args, output); }; });

  CLI::App* sell =
      maker->add_subcommand("sell", "Record a sale: the device may be claimed by this domain next");
  AddMakerDir(*sell, args->dir);
  sell->add_option("--serial", args->serial, "Device serial number")->required();
  sell->add_option("--domain-ca", args->domain_ca, "The buyer's domain CA (PEM)")->required();
  sell->add_flag("--json", output.json, "Print JSON");
  sell->callback(
      [&action, &output, args] { action = [&output, args] { return Sell(*args, output); }; });

  CLI::App* audit = maker->add_subcommand("audit", "The MASA's tamper-evident audit chain");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand("verify", "Walk the hash chain; non-zero on any break");
  AddMakerDir(*verify, args->dir);
  verify->add_flag("--json", output.json, "Print JSON");
  verify->callback([&action, &output, args] {
    action = [&output, args] { return AuditVerify(*args, output); };
  });
}

}  // namespace concierge::app
