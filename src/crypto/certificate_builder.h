#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/random.h"
#include "crypto/certificate.h"
#include "crypto/key.h"

namespace concierge::crypto {

struct NameSpec {
  std::string common_name;
  std::string serial_number;  // the 802.1AR serialNumber attribute; empty to omit
  std::string organization;
};

// CertificateSpec is everything a CA decides about one certificate. Extension values use
// OpenSSL's configuration syntax ("critical,keyCertSign,cRLSign").
struct CertificateSpec {
  NameSpec subject;
  const X509_NAME* subject_name = nullptr;  // when set, used verbatim instead of subject
  EVP_PKEY* public_key = nullptr;
  Bytes serial;  // big-endian, from the injected Random; made positive here
  SystemTime not_before;
  SystemTime not_after;
  // no_expiration writes notAfter 99991231235959Z, RFC 5280's "no well-defined expiration
  // date", which IEEE 802.1AR IDevIDs use; not_after is then ignored.
  bool no_expiration = false;
  bool is_ca = false;
  int path_length = -1;  // -1: no pathLenConstraint
  std::string key_usage;
  std::string extended_key_usage;
  std::string subject_alt_names;  // e.g. "DNS:localhost,IP:127.0.0.1"
  std::vector<std::pair<std::string, std::string>> ia5_extensions;  // {oid, value}
};

// NewCertificateSpec starts a spec for subject with a random 128-bit serial, valid from an
// hour before now (for peers whose clocks run behind) for validity.
CertificateSpec NewCertificateSpec(NameSpec subject, SystemTime now, std::chrono::seconds validity,
                                   Random& random);

// IssueCertificate signs spec with issuer_key. issuer is the issuing CA certificate, or null for
// a self-signed certificate (then issuer_key must hold spec.public_key's private half).
Result<Certificate> IssueCertificate(const CertificateSpec& spec, const Certificate* issuer,
                                     const PrivateKey& issuer_key);

// KeyAndCertificate is a key pair and the certificate issued for it.
struct KeyAndCertificate {
  Certificate certificate;
  PrivateKey key;
};

// IssueWithNewKey generates a P-256 key, makes it spec's public key and issues the
// certificate: signed by issuer_key, or self-signed when issuer is null.
Result<KeyAndCertificate> IssueWithNewKey(CertificateSpec spec, const Certificate* issuer,
                                          const PrivateKey* issuer_key);

X509_NAME* BuildName(const NameSpec& spec);  // caller owns the result

// Csr is a parsed PKCS#10 certificate signing request.
class Csr {
 public:
  static Result<Csr> FromDer(ByteSpan der);
  static Result<Bytes> CreateDer(const PrivateKey& key, const NameSpec& subject);

  // VerifySelfSignature proves the requester holds the private key.
  Status VerifySelfSignature() const;
  std::string SubjectSerialNumber() const;
  std::string SubjectText() const;

  const X509_NAME* SubjectName() const { return X509_REQ_get_subject_name(req_.get()); }

  EVP_PKEY* PublicKey() const { return X509_REQ_get0_pubkey(req_.get()); }

 private:
  explicit Csr(OpenSslPtr<X509_REQ> req) : req_(std::move(req)) {}

  std::shared_ptr<X509_REQ> req_;
};

}  // namespace concierge::crypto
