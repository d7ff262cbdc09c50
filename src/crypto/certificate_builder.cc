#include "crypto/certificate_builder.h"

#include <algorithm>
#include <vector>

#include "common/bytes.h"

namespace concierge::crypto {
namespace {

Status AddConfExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  if (value.empty()) {
    return OkStatus();
  }
  OpenSslPtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return std::unexpected(
        OpenSslError(ErrorCode::kInvalidArgument,
                     std::string("certificate extension ") + OBJ_nid2sn(nid) + "=" + value));
  }
  return OkStatus();
}

Status AddIa5Extension(X509* cert, const std::string& oid, const std::string& value) {
  OpenSslPtr<ASN1_OBJECT> object(OBJ_txt2obj(oid.c_str(), 1));
  OpenSslPtr<ASN1_STRING> ia5(ASN1_IA5STRING_new());
  ASN1_STRING_set(ia5.get(), value.data(), static_cast<int>(value.size()));
  ASSIGN_OR_RETURN(Bytes der, EncodeDer(i2d_ASN1_IA5STRING, ia5.get(), "an IA5String"));
  OpenSslPtr<ASN1_OCTET_STRING> octets(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(octets.get(), der.data(), static_cast<int>(der.size()));
  OpenSslPtr<X509_EXTENSION> ext(
      X509_EXTENSION_create_by_OBJ(nullptr, object.get(), 0, octets.get()));
  if (!object || !ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "extension " + oid));
  }
  return OkStatus();
}

// UniqueNames drops repeated entries from a comma-separated subjectAltName list ("DNS:a,IP:b"),
// keeping the first of each: an operator's extra names often repeat the defaults.
std::string UniqueNames(std::string_view names) {
  std::vector<std::string> seen;
  std::string out;
  size_t start = 0;
  while (start <= names.size()) {
    size_t end = names.find(',', start);
    if (end == std::string_view::npos) {
      end = names.size();
    }
    std::string_view piece = names.substr(start, end - start);
    size_t first = piece.find_first_not_of(' ');
    std::string name(TrimTrailingSpace(first == std::string_view::npos ? "" : piece.substr(first)));
    if (!name.empty() && std::ranges::find(seen, name) == seen.end()) {
      out += (out.empty() ? "" : ",") + name;
      seen.push_back(std::move(name));
    }
    start = end + 1;
  }
  return out;
}

void AddEntry(X509_NAME* name, const char* field, const std::string& value) {
  if (!value.empty()) {
    X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
  }
}

}  // namespace

X509_NAME* BuildName(const NameSpec& spec) {
  X509_NAME* name = X509_NAME_new();
  AddEntry(name, "O", spec.organization);
  AddEntry(name, "CN", spec.common_name);
  AddEntry(name, "serialNumber", spec.serial_number);
  return name;
}

Result<Certificate> IssueCertificate(const CertificateSpec& spec, const Certificate* issuer,
                                     const PrivateKey& issuer_key) {
  if (spec.public_key == nullptr || spec.serial.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "certificate needs a public key and a serial");
  }
  OpenSslPtr<X509> cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);

  Bytes serial = spec.serial;
  serial[0] &= 0x7f;  // positive
  serial[0] |= 0x40;  // and of full length, so every serial has the same size
  OpenSslPtr<BIGNUM> bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));

  OpenSslPtr<X509_NAME> built;
  const X509_NAME* subject = spec.subject_name;
  if (subject == nullptr) {
    built.reset(BuildName(spec.subject));
    subject = built.get();
  }
  X509_set_subject_name(cert.get(), subject);
  X509_set_issuer_name(cert.get(),
                       issuer != nullptr ? X509_get_subject_name(issuer->get()) : subject);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), ToUnixSeconds(spec.not_before));
  if (spec.no_expiration) {
    ASN1_TIME_set_string(X509_getm_notAfter(cert.get()), "99991231235959Z");
  } else {
    ASN1_TIME_set(X509_getm_notAfter(cert.get()), ToUnixSeconds(spec.not_after));
  }
  X509_set_pubkey(cert.get(), spec.public_key);

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->get() : cert.get(), cert.get(), nullptr, nullptr,
                 0);
  std::string constraints = spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (spec.is_ca && spec.path_length >= 0) {
    constraints += ",pathlen:" + std::to_string(spec.path_length);
  }
  RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_basic_constraints, constraints));
  RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_key_usage, spec.key_usage));
  RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_ext_key_usage, spec.extended_key_usage));
  RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_subject_alt_name,
                                   UniqueNames(spec.subject_alt_names)));
  for (const auto& [oid, value] : spec.ia5_extensions) {
    RETURN_IF_ERROR(AddIa5Extension(cert.get(), oid, value));
  }
  if (X509_sign(cert.get(), issuer_key.get(), EVP_sha256()) <= 0) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "signing a certificate"));
  }
  return Certificate::Adopt(cert.release());
}

CertificateSpec NewCertificateSpec(NameSpec subject, SystemTime now, std::chrono::seconds validity,
                                   Random& random) {
  CertificateSpec spec;
  spec.subject = std::move(subject);
  spec.serial = random.Generate(16);
  spec.not_before = now - std::chrono::hours(1);
  spec.not_after = now + validity;
  return spec;
}

Result<KeyAndCertificate> IssueWithNewKey(CertificateSpec spec, const Certificate* issuer,
                                          const PrivateKey* issuer_key) {
  ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::GenerateP256());
  spec.public_key = key.get();
  ASSIGN_OR_RETURN(Certificate certificate,
                   IssueCertificate(spec, issuer, issuer_key != nullptr ? *issuer_key : key));
  return KeyAndCertificate{certificate, key};
}

Result<Csr> Csr::FromDer(ByteSpan der) {
  const unsigned char* p = der.data();
  OpenSslPtr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!req) {
    return std::unexpected(OpenSslError(ErrorCode::kBadFormat, "parsing a PKCS#10 request"));
  }
  if (p != der.data() + der.size()) {
    return MakeError(ErrorCode::kBadFormat, "PKCS#10 request has trailing bytes");
  }
  return Csr(std::move(req));
}

Result<Bytes> Csr::CreateDer(const PrivateKey& key, const NameSpec& subject) {
  OpenSslPtr<X509_REQ> req(X509_REQ_new());
  OpenSslPtr<X509_NAME> name(BuildName(subject));
  X509_REQ_set_version(req.get(), 0);
  X509_REQ_set_subject_name(req.get(), name.get());
  X509_REQ_set_pubkey(req.get(), key.get());
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "signing a PKCS#10 request"));
  }
  return EncodeDer(i2d_X509_REQ, req.get(), "a PKCS#10 request");
}

Status Csr::VerifySelfSignature() const {
  if (X509_REQ_verify(req_.get(), PublicKey()) != 1) {
    return std::unexpected(
        OpenSslError(ErrorCode::kSecurity, "PKCS#10 request signature does not verify"));
  }
  return OkStatus();
}

std::string Csr::SubjectSerialNumber() const {
  const X509_NAME* name = SubjectName();
  int index = X509_NAME_get_index_by_NID(name, NID_serialNumber, -1);
  if (index < 0) {
    return "";
  }
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<size_t>(ASN1_STRING_length(data)));
}

std::string Csr::SubjectText() const {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), SubjectName(), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace concierge::crypto
