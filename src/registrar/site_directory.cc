#include "registrar/site_directory.h"

#include "common/files.h"
#include "common/json.h"
#include "crypto/certificate_builder.h"
#include "registrar/site_store.h"
#include "store/postgres_database.h"

namespace concierge::registrar {
namespace {

constexpr std::chrono::hours kDomainCaValidity{24 * 365 * 20};
constexpr std::chrono::hours kRegistrarValidity{24 * 365 * 2};

}  // namespace

Result<SiteDirectory> InitSiteDirectory(const std::filesystem::path& dir, const std::string& name,
                                        const std::string& extra_names, const Clock& clock,
                                        Random& random, const std::string& database) {
  if (std::filesystem::exists(dir / "site.json")) {
    return MakeError(ErrorCode::kAlreadyExists, dir.string() + " already holds a site");
  }
  if (name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "site name must not be empty");
  }
  if (!database.empty() && !store::IsPostgresLocation(database)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--db takes a PostgreSQL URI (postgresql://…); without it the site keeps "
                     "site.db in its directory");
  }
  RETURN_IF_ERROR(MakeDirectories(dir));
  SystemTime now = clock.Now();
  crypto::CertificateSpec ca_spec =
      crypto::NewCertificateSpec({name + " Domain CA", "", name}, now, kDomainCaValidity, random);
  ca_spec.is_ca = true;
  ca_spec.path_length = 1;
  ca_spec.key_usage = "critical,keyCertSign,cRLSign";
  ASSIGN_OR_RETURN(auto ca, crypto::IssueWithNewKey(ca_spec, nullptr, nullptr));

  crypto::CertificateSpec spec =
      crypto::NewCertificateSpec({name + " Registrar", "", name}, now, kRegistrarValidity, random);
  spec.key_usage = "critical,digitalSignature";
  spec.extended_key_usage = std::string("serverAuth,clientAuth,") + crypto::kOidCmcRa;
  spec.subject_alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  if (!extra_names.empty()) {
    spec.subject_alt_names += "," + extra_names;
  }
  ASSIGN_OR_RETURN(auto registrar, crypto::IssueWithNewKey(spec, &ca.certificate, &ca.key));

  // A new site keeps its keys in files; an operator may move one into a token later and name
  // it under "keys" in site.json.
  const crypto::KeyStore& keys = crypto::DefaultKeyStore();
  crypto::KeyReferences references(dir);
  RETURN_IF_ERROR(crypto::KeepKeyPair(keys, references, dir, "domain-ca", ca));
  RETURN_IF_ERROR(crypto::KeepKeyPair(keys, references, dir, "registrar", registrar));
  std::string location = database.empty() ? (dir / "site.db").string() : database;
  ASSIGN_OR_RETURN_CTX(auto store, SiteStore::Open(location, clock),
                       database.empty() ? "" : "the site's PostgreSQL database");
  Json config{{"name", name}, {"created_at", FormatRfc3339(now)}};
  if (!database.empty()) {
    config["database"] = database;
  }
  RETURN_IF_ERROR(WriteFileAtomic(dir / "site.json", config.dump(2) + "\n"));
  return LoadSiteDirectory(dir);
}

Result<SiteDirectory> LoadSiteDirectory(const std::filesystem::path& dir,
                                        const crypto::KeyStore& keys) {
  ASSIGN_OR_RETURN_CTX(std::string text, ReadFile(dir / "site.json"),
                       "no site in " + dir.string() + " (run `concierge site init`)");
  ASSIGN_OR_RETURN(Json config, ParseJsonObject(text, (dir / "site.json").string()));
  JsonObjectReader reader(config, "site");
  ASSIGN_OR_RETURN(std::string name, reader.RequiredString("name"));
  ASSIGN_OR_RETURN(std::string database, reader.OptionalString("database"));
  ASSIGN_OR_RETURN_CTX(auto references, crypto::KeyReferences::FromConfig(config, dir),
                       (dir / "site.json").string());
  ASSIGN_OR_RETURN(auto ca, crypto::LoadKeyPair(keys, references, dir, "domain-ca"));
  ASSIGN_OR_RETURN(auto registrar, crypto::LoadKeyPair(keys, references, dir, "registrar"));
  return SiteDirectory{
      dir, RegistrarIdentity{name, ca.certificate, ca.key, registrar.certificate, registrar.key},
      std::move(database)};
}

}  // namespace concierge::registrar
