#include "masa/maker_directory.h"

#include "common/files.h"
#include "common/json.h"
#include "common/url.h"
#include "crypto/certificate_builder.h"
#include "crypto/key_store.h"
#include "store/postgres_database.h"

namespace concierge::masa {
namespace {

using crypto::CertificateSpec;

constexpr std::chrono::hours kCaValidity{24 * 365 * 30};
constexpr std::chrono::hours kServiceValidity{24 * 365 * 5};

// HostOf is the host a MASA URL names; the URL may be an authority alone (RFC 8995 §2.3.2).
std::string HostOf(const std::string& masa_url) {
  auto url =
      ParseHttpsUrl(masa_url.find("://") == std::string::npos ? "https://" + masa_url : masa_url);
  return url ? url->host : std::string();
}

}  // namespace

Result<MakerDirectory> InitMakerDirectory(const std::filesystem::path& dir, const std::string& name,
                                          const std::string& masa_url, const Clock& clock,
                                          Random& random, const std::string& database) {
  if (std::filesystem::exists(dir / "maker.json")) {
    return MakeError(ErrorCode::kAlreadyExists, dir.string() + " already holds a maker");
  }
  if (name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "maker name must not be empty");
  }
  if (!database.empty() && !store::IsPostgresLocation(database)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--db takes a PostgreSQL URI (postgresql://…); without it the maker keeps "
                     "maker.db in its directory");
  }
  RETURN_IF_ERROR(MakeDirectories(dir));
  SystemTime now = clock.Now();

  CertificateSpec ca_spec =
      crypto::NewCertificateSpec({name + " Manufacturer CA", "", name}, now, kCaValidity, random);
  ca_spec.is_ca = true;
  ca_spec.path_length = 0;
  ca_spec.key_usage = "critical,keyCertSign,cRLSign";
  ASSIGN_OR_RETURN(auto ca, crypto::IssueWithNewKey(ca_spec, nullptr, nullptr));

  CertificateSpec signer_spec = crypto::NewCertificateSpec(
      {name + " MASA voucher signer", "", name}, now, kServiceValidity, random);
  // No extended key usage: `openssl cms -verify` then accepts it for S/MIME signing too.
  signer_spec.key_usage = "critical,digitalSignature";
  ASSIGN_OR_RETURN(auto signer, crypto::IssueWithNewKey(signer_spec, &ca.certificate, &ca.key));

  CertificateSpec tls_spec =
      crypto::NewCertificateSpec({name + " MASA", "", name}, now, kServiceValidity, random);
  tls_spec.key_usage = "critical,digitalSignature";
  tls_spec.extended_key_usage = "serverAuth";
  tls_spec.subject_alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  std::string host = HostOf(masa_url);
  if (!host.empty() && host != "localhost" && host != "127.0.0.1" && host != "::1") {
    tls_spec.subject_alt_names += (IsIpLiteral(host) ? ",IP:" : ",DNS:") + host;
  }
  ASSIGN_OR_RETURN(auto tls, crypto::IssueWithNewKey(tls_spec, &ca.certificate, &ca.key));

  // A new maker keeps its keys in files; an operator may move one into a token (an HSM for the
  // maker CA) later and name it under "keys" in maker.json.
  const crypto::KeyStore& keys = crypto::DefaultKeyStore();
  crypto::KeyReferences references(dir);
  RETURN_IF_ERROR(crypto::KeepKeyPair(keys, references, dir, "ca", ca));
  RETURN_IF_ERROR(crypto::KeepKeyPair(keys, references, dir, "masa-signer", signer));
  RETURN_IF_ERROR(crypto::KeepKeyPair(keys, references, dir, "masa-tls", tls));
  Json config{{"name", name}, {"masa_url", masa_url}, {"created_at", FormatRfc3339(now)}};
  if (!database.empty()) {
    config["database"] = database;
  }
  RETURN_IF_ERROR(WriteFileAtomic(dir / "maker.json", config.dump(2) + "\n"));
  return LoadMakerDirectory(dir);
}

Result<MakerDirectory> LoadMakerDirectory(const std::filesystem::path& dir,
                                          const crypto::KeyStore& keys) {
  ASSIGN_OR_RETURN_CTX(std::string text, ReadFile(dir / "maker.json"),
                       "no maker in " + dir.string() + " (run `concierge maker init`)");
  ASSIGN_OR_RETURN(Json config, ParseJsonObject(text, (dir / "maker.json").string()));
  JsonObjectReader reader(config, "maker");
  ASSIGN_OR_RETURN(std::string name, reader.RequiredString("name"));
  ASSIGN_OR_RETURN(std::string masa_url, reader.RequiredString("masa_url"));
  ASSIGN_OR_RETURN(std::string database, reader.OptionalString("database"));
  ASSIGN_OR_RETURN_CTX(auto references, crypto::KeyReferences::FromConfig(config, dir),
                       (dir / "maker.json").string());
  ASSIGN_OR_RETURN(auto ca, crypto::LoadKeyPair(keys, references, dir, "ca"));
  ASSIGN_OR_RETURN(auto signer, crypto::LoadKeyPair(keys, references, dir, "masa-signer"));
  ASSIGN_OR_RETURN(auto tls, crypto::LoadKeyPair(keys, references, dir, "masa-tls"));
  return MakerDirectory{dir,
                        std::move(name),
                        std::move(masa_url),
                        ca.key,
                        MasaIdentity{ca.certificate, signer.certificate, signer.key},
                        crypto::Credential{tls.certificate, tls.key, {}},
                        std::move(database)};
}

Result<MintedIdentity> MintIdevid(const MakerDirectory& maker, MakerStore& store,
                                  const MintRequest& request, const Clock& clock, Random& random) {
  if (request.serial.empty() || request.serial.size() > 64) {
    return MakeError(ErrorCode::kInvalidArgument, "serial must be 1 to 64 characters");
  }
  SystemTime now = clock.Now();
  CertificateSpec spec =
      crypto::NewCertificateSpec({maker.name + " device", request.serial, maker.name}, now,
                                 request.validity.value_or(std::chrono::hours(0)), random);
  spec.no_expiration = !request.validity.has_value();
  spec.key_usage = "critical,digitalSignature";
  spec.extended_key_usage = "clientAuth";
  spec.ia5_extensions.emplace_back(crypto::kOidMasaUrl, maker.masa_url);
  if (!request.mud_url.empty()) {
    spec.ia5_extensions.emplace_back(crypto::kOidMudUrl, request.mud_url);
  }
  ASSIGN_OR_RETURN(auto issued, crypto::IssueWithNewKey(spec, &maker.masa.maker_ca, &maker.ca_key));
  crypto::KeyProvenance provenance{"maker software (OpenSSL), on the maker host", "file", true};
  RETURN_IF_ERROR(store.AddMintedDevice(issued.certificate, request.mud_url, provenance));
  return MintedIdentity{issued.certificate, issued.key, provenance};
}

}  // namespace concierge::masa
