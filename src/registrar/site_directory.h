#pragma once

#include <filesystem>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "crypto/identity.h"
#include "crypto/key_store.h"
#include "registrar/registrar_service.h"

namespace concierge::registrar {

// A site directory holds the domain CA, the registrar's identity and site.db, or names the
// PostgreSQL database the site keeps its records in (site.json's "database").
struct SiteDirectory {
  std::filesystem::path dir;
  RegistrarIdentity identity;
  std::string database;  // a PostgreSQL URI, or empty for DIR/site.db

  // DatabaseLocation is what store::OpenDatabase takes.
  std::string DatabaseLocation() const {
    return database.empty() ? (dir / "site.db").string() : database;
  }

  // Tls is the registrar's TLS identity. The domain CA is a root every peer that trusts it
  // already holds (as a voucher's pin or an EST anchor), so it is not sent.
  crypto::Credential Tls() const { return {identity.registrar_cert, identity.registrar_key, {}}; }
};

// InitSiteDirectory creates the domain CA (a root for this site) and the registrar's
// certificate (serverAuth, clientAuth and cmcRA, as RFC 8995 §2.4 asks), plus site.db, or the
// site's tables in the PostgreSQL database a non-empty database names.
// extra_names adds DNS or IP names to the registrar certificate ("DNS:x", "IP:y").
Result<SiteDirectory> InitSiteDirectory(const std::filesystem::path& dir, const std::string& name,
                                        const std::string& extra_names, const Clock& clock,
                                        Random& random, const std::string& database = "");

// LoadSiteDirectory reads the site's certificates and its keys from keys, at the references
// site.json names under "keys" (default: DIR/domain-ca.key and DIR/registrar.key).
Result<SiteDirectory> LoadSiteDirectory(const std::filesystem::path& dir,
                                        const crypto::KeyStore& keys = crypto::DefaultKeyStore());

}  // namespace concierge::registrar
