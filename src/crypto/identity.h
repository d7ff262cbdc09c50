#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crypto/certificate.h"
#include "crypto/key.h"

namespace concierge::crypto {

// Credential is what a party proves itself with: a certificate, its private key, and the
// intermediates sent after the certificate. Transports (TLS, DTLS) and signatures (CMS, COSE)
// take the same credential.
struct Credential {
  Certificate certificate;
  PrivateKey key;
  std::vector<Certificate> chain;
};

// PeerIdentity is what a transport authenticated about the other end: the certificate and
// chain it presented (none when it presented none), and where it spoke from. Protocol logic
// decides trust from this alone, whatever the transport was.
struct PeerIdentity {
  std::optional<Certificate> certificate;
  std::vector<Certificate> chain;  // as sent, without the leaf
  std::string address;             // the peer's IP address ("" if unknown); IPv4 dotted quad
};

}  // namespace concierge::crypto
