#include "masa/maker_directory.h"

#include "common/files.h"
#include "common/json.h"
#include "crypto/certificate_builder.h"

namespace concierge::masa {
namespace {

using crypto::Certificate;
using crypto::CertificateSpec;
using crypto::PrivateKey;

constexpr std::chrono::minutes kBackdate{60};
constexpr std::chrono::hours kCaValidity{24 * 365 * 30};
constexpr std::chrono::hours kServiceValidity{24 * 365 * 5};

Status WriteKeyPair(const std::filesystem::path& base, const Certificate& cert,
                    const PrivateKey& key) {
  ASSIGN_OR_RETURN(std::string key_pem, key.ToPem());
  RETURN_IF_ERROR(WriteFileAtomic(base.string() + ".key", key_pem, 0600));
  return WriteFileAtomic(base.string() + ".pem", cert.Pem());
}

Result<std::pair<Certificate, PrivateKey>> ReadKeyPair(const std::filesystem::path& base) {
  ASSIGN_OR_RETURN(std::string cert_pem, ReadFile(base.string() + ".pem"));
  ASSIGN_OR_RETURN(std::string key_pem, ReadFile(base.string() + ".key"));
  ASSIGN_OR_RETURN_CTX(auto cert, Certificate::FromPem(cert_pem), base.string() + ".pem");
  ASSIGN_OR_RETURN_CTX(auto key, PrivateKey::FromPem(key_pem), base.string() + ".key");
  return std::make_pair(cert, key);
}

std::string AuthorityOf(const std::string& masa_url) {
  std::string rest = masa_url;
  if (auto scheme = rest.find("://"); scheme != std::string::npos) {
    rest = rest.substr(scheme + 3);
  }
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest.front() == '[') {
    return rest.substr(1, rest.find(']') - 1);
  }
  return rest.substr(0, rest.rfind(':'));
}

bool LooksLikeIp(const std::string& host) {
  return host.find_first_not_of("0123456789.") == std::string::npos ||
         host.find(':') != std::string::npos;
}

}  // namespace

Result<MakerDirectory> InitMakerDirectory(const std::filesystem::path& dir, const std::string& name,
                                          const std::string& masa_url, const Clock& clock,
                                          Random& random) {
  if (std::filesystem::exists(dir / "maker.json")) {
    return MakeError(ErrorCode::kAlreadyExists, dir.string() + " already holds a maker");
  }
  if (name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "maker name must not be empty");
  }
  RETURN_IF_ERROR(MakeDirectories(dir));
  SystemTime now = clock.Now();

  ASSIGN_OR_RETURN(PrivateKey ca_key, PrivateKey::GenerateP256());
  CertificateSpec ca_spec;
  ca_spec.subject = {name + " Manufacturer CA", "", name};
  ca_spec.public_key = ca_key.get();
  ca_spec.serial = random.Generate(16);
  ca_spec.not_before = now - kBackdate;
  ca_spec.not_after = now + kCaValidity;
  ca_spec.is_ca = true;
  ca_spec.path_length = 0;
  ca_spec.key_usage = "critical,keyCertSign,cRLSign";
  ASSIGN_OR_RETURN(Certificate ca, crypto::IssueCertificate(ca_spec, nullptr, ca_key));

  ASSIGN_OR_RETURN(PrivateKey signer_key, PrivateKey::GenerateP256());
  CertificateSpec signer_spec;
  signer_spec.subject = {name + " MASA voucher signer", "", name};
  signer_spec.public_key = signer_key.get();
  signer_spec.serial = random.Generate(16);
  signer_spec.not_before = now - kBackdate;
  signer_spec.not_after = now + kServiceValidity;
  // No extended key usage: `openssl cms -verify` then accepts it for S/MIME signing too.
  signer_spec.key_usage = "critical,digitalSignature";
  ASSIGN_OR_RETURN(Certificate signer, crypto::IssueCertificate(signer_spec, &ca, ca_key));

  ASSIGN_OR_RETURN(PrivateKey tls_key, PrivateKey::GenerateP256());
  CertificateSpec tls_spec;
  tls_spec.subject = {name + " MASA", "", name};
  tls_spec.public_key = tls_key.get();
  tls_spec.serial = random.Generate(16);
  tls_spec.not_before = now - kBackdate;
  tls_spec.not_after = now + kServiceValidity;
  tls_spec.key_usage = "critical,digitalSignature";
  tls_spec.extended_key_usage = "serverAuth";
  tls_spec.subject_alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  std::string host = AuthorityOf(masa_url);
  if (!host.empty() && host != "localhost" && host != "127.0.0.1" && host != "::1") {
    tls_spec.subject_alt_names += (LooksLikeIp(host) ? ",IP:" : ",DNS:") + host;
  }
  ASSIGN_OR_RETURN(Certificate tls, crypto::IssueCertificate(tls_spec, &ca, ca_key));

  RETURN_IF_ERROR(WriteKeyPair(dir / "ca", ca, ca_key));
  RETURN_IF_ERROR(WriteKeyPair(dir / "masa-signer", signer, signer_key));
  RETURN_IF_ERROR(WriteKeyPair(dir / "masa-tls", tls, tls_key));
  Json config{{"name", name}, {"masa_url", masa_url}, {"created_at", FormatRfc3339(now)}};
  RETURN_IF_ERROR(WriteFileAtomic(dir / "maker.json", config.dump(2) + "\n"));
  return LoadMakerDirectory(dir);
}

Result<MakerDirectory> LoadMakerDirectory(const std::filesystem::path& dir) {
  ASSIGN_OR_RETURN_CTX(std::string text, ReadFile(dir / "maker.json"),
                       "no maker in " + dir.string() + " (run `concierge maker init`)");
  ASSIGN_OR_RETURN(Json config, ParseJsonObject(text, (dir / "maker.json").string()));
  JsonObjectReader reader(config, "maker");
  ASSIGN_OR_RETURN(std::string name, reader.RequiredString("name"));
  ASSIGN_OR_RETURN(std::string masa_url, reader.RequiredString("masa_url"));
  ASSIGN_OR_RETURN(auto ca, ReadKeyPair(dir / "ca"));
  ASSIGN_OR_RETURN(auto signer, ReadKeyPair(dir / "masa-signer"));
  ASSIGN_OR_RETURN(auto tls, ReadKeyPair(dir / "masa-tls"));
  return MakerDirectory{dir,
                        std::move(name),
                        std::move(masa_url),
                        ca.second,
                        MasaIdentity{ca.first, signer.first, signer.second},
                        http::TlsIdentity{tls.first, tls.second, {}}};
}

Status SetMasaUrl(MakerDirectory& maker, const std::string& masa_url) {
  Json config{{"name", maker.name}, {"masa_url", masa_url}};
  maker.masa_url = masa_url;
  return WriteFileAtomic(maker.dir / "maker.json", config.dump(2) + "\n");
}

Result<MintedIdentity> MintIdevid(const MakerDirectory& maker, MakerStore& store,
                                  const MintRequest& request, const Clock& clock, Random& random) {
  if (request.serial.empty() || request.serial.size() > 64) {
    return MakeError(ErrorCode::kInvalidArgument, "serial must be 1 to 64 characters");
  }
  ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::GenerateP256());
  SystemTime now = clock.Now();
  CertificateSpec spec;
  spec.subject = {maker.name + " device", request.serial, maker.name};
  spec.public_key = key.get();
  spec.serial = random.Generate(16);
  spec.not_before = now - kBackdate;
  spec.not_after = now + request.validity.value_or(std::chrono::hours(0));
  spec.no_expiration = !request.validity.has_value();
  spec.key_usage = "critical,digitalSignature";
  spec.extended_key_usage = "clientAuth";
  spec.ia5_extensions.emplace_back(crypto::kOidMasaUrl, maker.masa_url);
  if (!request.mud_url.empty()) {
    spec.ia5_extensions.emplace_back(crypto::kOidMudUrl, request.mud_url);
  }
  ASSIGN_OR_RETURN(Certificate idevid,
                   crypto::IssueCertificate(spec, &maker.masa.maker_ca, maker.ca_key));
  crypto::KeyProvenance provenance{"maker software (OpenSSL), on the maker host", "file", true};
  RETURN_IF_ERROR(store.AddMintedDevice(idevid, request.mud_url, provenance));
  return MintedIdentity{idevid, key, provenance};
}

}  // namespace concierge::masa
