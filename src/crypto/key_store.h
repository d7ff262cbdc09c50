#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/json.h"
#include "crypto/certificate_builder.h"
#include "crypto/key.h"

namespace concierge::crypto {

// KeyStore is the one way site, maker and device code reaches its private keys: by reference.
// A reference is a file path or a file: URI (a PEM file, as concierge writes them), or a URI
// that a store loader of a loaded OpenSSL provider accepts, such as the tpm2 provider's
// "handle:0x81000001" or a PKCS#11 provider's "pkcs11:...". Every signing path (certificates,
// CRLs, CMS, COSE, TLS) signs through the key's EVP_PKEY handle, so a key loaded from a token
// signs in the token and never leaves it.
class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // Load returns the private key at reference; errors name the reference.
  virtual Result<PrivateKey> Load(std::string_view reference) const = 0;
  // Keep stores a key made in software at reference; only a file can hold one.
  virtual Status Keep(std::string_view reference, const PrivateKey& key) const = 0;
};

// ProviderKeyStore reads key files itself (refusing one that group or others may read, as ssh
// does) and every other reference through OSSL_STORE; it keeps keys as PKCS#8 PEM files, mode
// 0600, written atomically.
class ProviderKeyStore final : public KeyStore {
 public:
  Result<PrivateKey> Load(std::string_view reference) const override;
  Status Keep(std::string_view reference, const PrivateKey& key) const override;
};

// DefaultKeyStore is the process's ProviderKeyStore.
const KeyStore& DefaultKeyStore();

// IsFileReference says whether reference names a file (a path or a file: URI) rather than a
// key in some other store.
bool IsFileReference(std::string_view reference);

// KeyReferences says where a directory's keys are. The directory's JSON may name a reference
// for any role under "keys", e.g. {"keys": {"domain-ca": "handle:0x81000001"}}; a role it does
// not name is the file DIR/ROLE.key, and a relative path is relative to the directory.
class KeyReferences {
 public:
  explicit KeyReferences(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // FromConfig reads the "keys" object of a directory's JSON (absent: every key is a file).
  static Result<KeyReferences> FromConfig(const Json& config, const std::filesystem::path& dir);

  std::string For(std::string_view role) const;

 private:
  std::filesystem::path dir_;
  std::map<std::string, std::string, std::less<>> named_;
};

// CheckKeyOfCertificate refuses a key that is not the one certificate certifies: a key
// reference pointing at the wrong key must fail when it is loaded, not at the first handshake.
Status CheckKeyOfCertificate(const Certificate& certificate, const PrivateKey& key,
                             std::string_view reference, std::string_view certificate_name);

// LoadKeyPair reads the certificate DIR/ROLE.pem and the role's key, and refuses a key that is
// not the certificate's (a reference that points at the wrong key).
Result<KeyAndCertificate> LoadKeyPair(const KeyStore& keys, const KeyReferences& references,
                                      const std::filesystem::path& dir, std::string_view role);

// KeepKeyPair writes DIR/ROLE.pem (mode 0644) and keeps the key at the role's reference.
Status KeepKeyPair(const KeyStore& keys, const KeyReferences& references,
                   const std::filesystem::path& dir, std::string_view role,
                   const KeyAndCertificate& pair);

}  // namespace concierge::crypto
