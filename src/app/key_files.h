#pragma once

#include <string>

#include "app/cli.h"
#include "common/bytes.h"

namespace concierge::app {

struct PublicKeyFile {
  Bytes key;         // SubjectPublicKeyInfo DER
  std::string name;  // the certificate's subject, or the key's hash, for people and the audit log
};

// KeyName is how people see a key: "key sha256:" and the first 16 hex digits of its hash.
std::string KeyName(ByteSpan spki);

// ReadPublicKeyFile takes a certificate (an owner's domain CA) or a bare public key, in PEM.
Result<PublicKeyFile> ReadPublicKeyFile(const std::string& path);

// WriteSigningKeyPair makes a P-256 key pair for an escrow agent or a tenant: BASE.key
// (private, mode 0600) and BASE.pub.pem.
Status WriteSigningKeyPair(const std::string& base, const std::string& role, const Output& output);

}  // namespace concierge::app
