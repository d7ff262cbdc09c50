#pragma once

#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/error.h"

namespace concierge::crypto {

// NamedPublicKey is someone's public key as an operator hands it over: an owner's domain CA
// certificate or a bare public key.
struct NamedPublicKey {
  Bytes spki;        // SubjectPublicKeyInfo DER
  std::string name;  // the certificate's subject, or KeyName, for people and the audit log
};

// KeyName is how people see a key: "key sha256:" and the first 16 hex digits of its hash.
std::string KeyName(ByteSpan spki);

// PublicKeyText writes a SubjectPublicKeyInfo as a PEM PUBLIC KEY block.
std::string PublicKeyText(ByteSpan spki);

// ParsePublicKeyText reads a certificate or a PUBLIC KEY block, in PEM.
Result<NamedPublicKey> ParsePublicKeyText(std::string_view pem);

}  // namespace concierge::crypto
