#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "crypto/identity.h"
#include "crypto/key_store.h"
#include "masa/masa_service.h"

namespace concierge::masa {

// A maker directory holds the maker CA, the MASA's voucher-signing and TLS identities, and
// maker.db, or names the PostgreSQL database several MASA processes share (maker.json's
// "database"). A new maker's keys are files (mode 0600) made by OpenSSL on this host.
struct MakerDirectory {
  std::filesystem::path dir;
  std::string name;
  std::string masa_url;  // what minted IDevIDs carry in 1.3.6.1.5.5.7.1.32
  crypto::PrivateKey ca_key;
  MasaIdentity masa;
  crypto::Credential tls;
  std::string database;  // a PostgreSQL URI, or empty for DIR/maker.db

  // DatabaseLocation is what store::OpenDatabase takes.
  std::string DatabaseLocation() const {
    return database.empty() ? (dir / "maker.db").string() : database;
  }
};

// InitMakerDirectory creates a new maker in dir (which must not hold one already).
// masa_url is an authority ("host:port") or an https URL; tls_names are extra DNS/IP names
// for the MASA's TLS certificate beyond localhost and 127.0.0.1.
// database, when not empty, is the PostgreSQL URI of the maker's records.
Result<MakerDirectory> InitMakerDirectory(const std::filesystem::path& dir, const std::string& name,
                                          const std::string& masa_url, const Clock& clock,
                                          Random& random, const std::string& database = "");

// LoadMakerDirectory reads the maker's certificates and its keys from keys, at the references
// maker.json names under "keys" (default: DIR/ca.key, DIR/masa-signer.key, DIR/masa-tls.key).
Result<MakerDirectory> LoadMakerDirectory(const std::filesystem::path& dir,
                                          const crypto::KeyStore& keys = crypto::DefaultKeyStore());

struct MintRequest {
  std::string serial;
  std::string mud_url;
  // IEEE 802.1AR IDevIDs normally never expire (notAfter 99991231235959Z); a validity makes
  // one that does.
  std::optional<std::chrono::hours> validity;
};

struct MintedIdentity {
  crypto::Certificate idevid;
  crypto::PrivateKey key;
  crypto::KeyProvenance provenance;
};

// MintIdevid makes a device identity: a P-256 key, an IDevID with subject serialNumber, the
// MASA URL and (optionally) MUD URL extensions, recorded in the maker's store.
Result<MintedIdentity> MintIdevid(const MakerDirectory& maker, MakerStore& store,
                                  const MintRequest& request, const Clock& clock, Random& random);

}  // namespace concierge::masa
