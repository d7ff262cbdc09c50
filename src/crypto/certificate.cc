#include "crypto/certificate.h"

#include <openssl/pem.h>

namespace concierge::crypto {
namespace {

std::string NameText(const X509_NAME* name) {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string NameEntry(const X509_NAME* name, int nid) {
  int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) {
    return "";
  }
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* raw = nullptr;
  int size = ASN1_STRING_to_UTF8(&raw, data);
  OpenSslMemory<unsigned char> utf8(raw);
  if (size < 0 || utf8 == nullptr) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(utf8.get()), static_cast<size_t>(size));
}

SystemTime AsnTime(const ASN1_TIME* time) {
  std::tm tm{};
  ASN1_TIME_to_tm(time, &tm);
  // X.509 times have four-digit years, all within SystemTime's range, 802.1AR's
  // 99991231235959Z included.
  return FromUnixSeconds(timegm(&tm));
}

}  // namespace

Certificate Certificate::Adopt(X509* x509) {
  return Certificate(std::shared_ptr<X509>(x509, X509_free));
}

Certificate Certificate::Share(X509* x509) {
  X509_up_ref(x509);
  return Adopt(x509);
}

void PushShared(STACK_OF(X509) * stack, const Certificate& cert) {
  X509_up_ref(cert.get());
  OpenSslPtr<X509> reference(cert.get());
  if (sk_X509_push(stack, reference.get()) != 0) {
    (void)reference.release();  // the stack holds it now
  }
}

Result<Certificate> Certificate::FromDer(ByteSpan der) {
  const unsigned char* p = der.data();
  X509* x509 = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x509 == nullptr) {
    return std::unexpected(OpenSslError(ErrorCode::kBadFormat, "parsing a DER certificate"));
  }
  Certificate cert = Adopt(x509);
  if (p != der.data() + der.size()) {
    return MakeError(ErrorCode::kBadFormat, "certificate has trailing bytes");
  }
  return cert;
}

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  ASSIGN_OR_RETURN(auto chain, FromPemChain(pem));
  return chain.front();
}

Result<std::vector<Certificate>> Certificate::FromPemChain(std::string_view pem) {
  OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<Certificate> chain;
  while (X509* x509 = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    chain.push_back(Adopt(x509));
  }
  ClearOpenSslErrors();  // the loop always ends on a "no start line" error
  if (chain.empty()) {
    return MakeError(ErrorCode::kBadFormat, "no PEM certificate found");
  }
  return chain;
}

Bytes Certificate::Der() const {
  // A parsed certificate keeps its encoding; only running out of memory fails here.
  return EncodeDer(i2d_X509, x509_.get(), "a certificate").value_or(Bytes());
}

std::string Certificate::Pem() const {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x509_.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string Certificate::SubjectText() const {
  return NameText(X509_get_subject_name(get()));
}

std::string Certificate::IssuerText() const {
  return NameText(X509_get_issuer_name(get()));
}

std::string Certificate::SubjectSerialNumber() const {
  return NameEntry(X509_get_subject_name(get()), NID_serialNumber);
}

std::string Certificate::SubjectCommonName() const {
  return NameEntry(X509_get_subject_name(get()), NID_commonName);
}

std::string Certificate::SerialHex() const {
  OpenSslPtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(get()), nullptr));
  OpenSslMemory<char> hex(BN_bn2hex(bn.get()));
  std::string out(hex != nullptr ? hex.get() : "");
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

SystemTime Certificate::NotBefore() const {
  return AsnTime(X509_get0_notBefore(get()));
}

SystemTime Certificate::NotAfter() const {
  return AsnTime(X509_get0_notAfter(get()));
}

bool Certificate::IsCa() const {
  return X509_check_ca(get()) > 0;
}

Result<std::string> Certificate::Ia5Extension(const char* oid) const {
  OpenSslPtr<ASN1_OBJECT> object(OBJ_txt2obj(oid, 1));
  int index = X509_get_ext_by_OBJ(get(), object.get(), -1);
  if (index < 0) {
    return std::string();
  }
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_get_ext(get(), index));
  const unsigned char* p = ASN1_STRING_get0_data(value);
  long length = ASN1_STRING_length(value);
  OpenSslPtr<ASN1_STRING> ia5(d2i_ASN1_IA5STRING(nullptr, &p, length));
  if (!ia5) {
    return std::unexpected(OpenSslError(ErrorCode::kBadFormat,
                                        std::string("extension ") + oid + " is not an IA5String"));
  }
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(ia5.get())),
                     static_cast<size_t>(ASN1_STRING_length(ia5.get())));
}

Bytes Certificate::AuthorityKeyIdExtnValue() const {
  int index = X509_get_ext_by_NID(get(), NID_authority_key_identifier, -1);
  if (index < 0) {
    return {};
  }
  ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_get_ext(get(), index));
  return EncodeDer(i2d_ASN1_OCTET_STRING, value, "an authority key identifier").value_or(Bytes());
}

Bytes Certificate::SubjectKeyId() const {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(get());
  if (ski == nullptr) {
    return {};
  }
  const unsigned char* data = ASN1_STRING_get0_data(ski);
  return Bytes(data, data + ASN1_STRING_length(ski));
}

Result<Bytes> Certificate::PublicKeyDer() const {
  return crypto::PublicKeyDer(PublicKey());
}

bool Certificate::MatchesHost(std::string_view host) const {
  // An address is matched against iPAddress names (X509_check_host looks at DNS names only);
  // X509_check_ip_asc answers -1 when host is not an address at all.
  std::string text(host);
  int as_address = X509_check_ip_asc(get(), text.c_str(), 0);
  if (as_address >= 0) {
    return as_address == 1;
  }
  return X509_check_host(get(), host.data(), host.size(), 0, nullptr) == 1;
}

bool Certificate::operator==(const Certificate& other) const {
  return X509_cmp(get(), other.get()) == 0;
}

std::string ChainToPem(const std::vector<Certificate>& chain) {
  std::string out;
  for (const auto& cert : chain) {
    out += cert.Pem();
  }
  return out;
}

Status VerifyChain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                   const std::vector<Certificate>& anchors, const ChainOptions& options) {
  OpenSslPtr<X509_STORE> store(X509_STORE_new());
  for (const auto& anchor : anchors) {
    X509_STORE_add_cert(store.get(), anchor.get());
  }
  OpenSslPtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  for (const auto& cert : intermediates) {
    PushShared(untrusted.get(), cert);
  }
  OpenSslPtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "initialising chain check"));
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(ToUnixSeconds(options.at)));
  if (options.allow_partial) {
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ClearOpenSslErrors();
    return MakeError(ErrorCode::kSecurity, "certificate \"" + leaf.SubjectText() +
                                               "\" does not chain to a trusted anchor: " +
                                               X509_verify_cert_error_string(err));
  }
  return OkStatus();
}

}  // namespace concierge::crypto
