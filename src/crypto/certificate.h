#pragma once

#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "crypto/key.h"
#include "crypto/openssl_ptr.h"

namespace concierge::crypto {

// OIDs this project reads or writes in certificates.
inline constexpr const char* kOidMasaUrl = "1.3.6.1.5.5.7.1.32";  // id-pe-masa-url (RFC 8995)
inline constexpr const char* kOidMudUrl = "1.3.6.1.5.5.7.1.25";   // id-pe-mud-url (RFC 8520)
inline constexpr const char* kOidCmcRa = "1.3.6.1.5.5.7.3.28";    // id-kp-cmcRA

// Certificate is an immutable X.509 certificate. Copies share the OpenSSL object (up-ref).
class Certificate {
 public:
  static Result<Certificate> FromDer(ByteSpan der);
  static Result<Certificate> FromPem(std::string_view pem);
  // FromPemChain reads every certificate in a PEM bundle, in order; fails on none.
  static Result<std::vector<Certificate>> FromPemChain(std::string_view pem);
  // Adopt takes ownership of one reference to x509.
  static Certificate Adopt(X509* x509);
  // Share takes a reference of its own to x509, which its owner (a stack, an SSL) keeps.
  static Certificate Share(X509* x509);

  Bytes Der() const;
  std::string Pem() const;

  std::string SubjectText() const;  // RFC 2253 form
  std::string IssuerText() const;
  // SubjectSerialNumber is the subject's serialNumber attribute (2.5.4.5), "" if absent.
  std::string SubjectSerialNumber() const;
  std::string SubjectCommonName() const;
  std::string SerialHex() const;  // the certificate serial number, lower-case hex
  SystemTime NotBefore() const;
  SystemTime NotAfter() const;
  bool IsCa() const;

  // Ia5Extension returns the IA5String value of the extension with this OID, "" if absent,
  // kBadFormat if present but not an IA5String.
  Result<std::string> Ia5Extension(const char* oid) const;

  // AuthorityKeyIdExtnValue is the AKI extension's extnValue as an encoded OCTET STRING,
  // which is what BRSKI puts in idevid-issuer; empty if the certificate has no AKI.
  Bytes AuthorityKeyIdExtnValue() const;
  Bytes SubjectKeyId() const;  // empty if absent

  Result<Bytes> PublicKeyDer() const;

  EVP_PKEY* PublicKey() const { return X509_get0_pubkey(x509_.get()); }

  // MatchesHost tells whether the certificate names host, as TLS would check it: an address
  // against iPAddress names, a name against DNS names (or the common name when there are none).
  bool MatchesHost(std::string_view host) const;

  bool operator==(const Certificate& other) const;

  X509* get() const { return x509_.get(); }

 private:
  explicit Certificate(std::shared_ptr<X509> x509) : x509_(std::move(x509)) {}

  std::shared_ptr<X509> x509_;
};

std::string ChainToPem(const std::vector<Certificate>& chain);

// ChainOptions selects how VerifyChain decides trust.
struct ChainOptions {
  SystemTime at;  // validity is checked at this time (the injected clock's now)
  // allow_partial lets a non-self-signed anchor (e.g. a pinned sub-CA or the leaf itself) end
  // the chain, as a BRSKI pinned-domain-cert may.
  bool allow_partial = false;
};

// PushShared adds cert to stack with a reference of the stack's own (an owning stack, freed
// with sk_X509_pop_free, as OpenSslPtr<STACK_OF(X509)> does).
void PushShared(STACK_OF(X509) * stack, const Certificate& cert);

// VerifyChain checks that leaf chains to one of anchors, through untrusted intermediates, with
// every certificate valid at options.at. Fails with kSecurity naming OpenSSL's reason.
Status VerifyChain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                   const std::vector<Certificate>& anchors, const ChainOptions& options);

}  // namespace concierge::crypto
