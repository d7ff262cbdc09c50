#include "registrar/site_directory.h"

#include "common/files.h"
#include "common/json.h"
#include "crypto/certificate_builder.h"
#include "registrar/site_store.h"

namespace concierge::registrar {
namespace {

using crypto::Certificate;
using crypto::PrivateKey;

constexpr std::chrono::minutes kBackdate{60};
constexpr std::chrono::hours kDomainCaValidity{24 * 365 * 20};
constexpr std::chrono::hours kRegistrarValidity{24 * 365 * 2};

}  // namespace

Result<SiteDirectory> InitSiteDirectory(const std::filesystem::path& dir, const std::string& name,
                                        const std::string& extra_names, const Clock& clock,
                                        Random& random) {
  if (std::filesystem::exists(dir / "site.json")) {
    return MakeError(ErrorCode::kAlreadyExists, dir.string() + " already holds a site");
  }
  if (name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "site name must not be empty");
  }
  RETURN_IF_ERROR(MakeDirectories(dir));
  SystemTime now = clock.Now();
  ASSIGN_OR_RETURN(PrivateKey ca_key, PrivateKey::GenerateP256());
  crypto::CertificateSpec ca_spec;
  ca_spec.subject = {name + " Domain CA", "", name};
  ca_spec.public_key = ca_key.get();
  ca_spec.serial = random.Generate(16);
  ca_spec.not_before = now - kBackdate;
  ca_spec.not_after = now + kDomainCaValidity;
  ca_spec.is_ca = true;
  ca_spec.path_length = 1;
  ca_spec.key_usage = "critical,keyCertSign,cRLSign";
  ASSIGN_OR_RETURN(Certificate ca, crypto::IssueCertificate(ca_spec, nullptr, ca_key));

  ASSIGN_OR_RETURN(PrivateKey registrar_key, PrivateKey::GenerateP256());
  crypto::CertificateSpec spec;
  spec.subject = {name + " Registrar", "", name};
  spec.public_key = registrar_key.get();
  spec.serial = random.Generate(16);
  spec.not_before = now - kBackdate;
  spec.not_after = now + kRegistrarValidity;
  spec.key_usage = "critical,digitalSignature";
  spec.extended_key_usage = std::string("serverAuth,clientAuth,") + crypto::kOidCmcRa;
  spec.subject_alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  if (!extra_names.empty()) {
    spec.subject_alt_names += "," + extra_names;
  }
  ASSIGN_OR_RETURN(Certificate registrar, crypto::IssueCertificate(spec, &ca, ca_key));

  ASSIGN_OR_RETURN(std::string ca_key_pem, ca_key.ToPem());
  ASSIGN_OR_RETURN(std::string registrar_key_pem, registrar_key.ToPem());
  RETURN_IF_ERROR(WriteFileAtomic(dir / "domain-ca.key", ca_key_pem, 0600));
  RETURN_IF_ERROR(WriteFileAtomic(dir / "domain-ca.pem", ca.Pem()));
  RETURN_IF_ERROR(WriteFileAtomic(dir / "registrar.key", registrar_key_pem, 0600));
  RETURN_IF_ERROR(WriteFileAtomic(dir / "registrar.pem", registrar.Pem()));
  ASSIGN_OR_RETURN(auto store, SiteStore::Open(dir / "site.db", clock));
  Json config{{"name", name}, {"created_at", FormatRfc3339(now)}};
  RETURN_IF_ERROR(WriteFileAtomic(dir / "site.json", config.dump(2) + "\n"));
  return LoadSiteDirectory(dir);
}

Result<SiteDirectory> LoadSiteDirectory(const std::filesystem::path& dir) {
  ASSIGN_OR_RETURN_CTX(std::string text, ReadFile(dir / "site.json"),
                       "no site in " + dir.string() + " (run `concierge site init`)");
  ASSIGN_OR_RETURN(Json config, ParseJsonObject(text, (dir / "site.json").string()));
  ASSIGN_OR_RETURN(std::string name, JsonObjectReader(config, "site").RequiredString("name"));
  auto read_cert = [&](const char* file) -> Result<Certificate> {
    ASSIGN_OR_RETURN(std::string pem, ReadFile(dir / file));
    ASSIGN_OR_RETURN_CTX(auto cert, Certificate::FromPem(pem), file);
    return cert;
  };
  auto read_key = [&](const char* file) -> Result<PrivateKey> {
    ASSIGN_OR_RETURN(std::string pem, ReadFile(dir / file));
    ASSIGN_OR_RETURN_CTX(auto key, PrivateKey::FromPem(pem), file);
    return key;
  };
  ASSIGN_OR_RETURN(Certificate ca, read_cert("domain-ca.pem"));
  ASSIGN_OR_RETURN(PrivateKey ca_key, read_key("domain-ca.key"));
  ASSIGN_OR_RETURN(Certificate registrar, read_cert("registrar.pem"));
  ASSIGN_OR_RETURN(PrivateKey registrar_key, read_key("registrar.key"));
  return SiteDirectory{dir, RegistrarIdentity{name, ca, ca_key, registrar, registrar_key}};
}

}  // namespace concierge::registrar
