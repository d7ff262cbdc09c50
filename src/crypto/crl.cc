#include "crypto/crl.h"

#include <algorithm>

#include <openssl/pem.h>

#include "crypto/openssl_ptr.h"

namespace concierge::crypto {
namespace {

Result<OpenSslPtr<ASN1_INTEGER>> SerialFromHex(const std::string& hex) {
  BIGNUM* raw = nullptr;
  int digits = hex.empty() ? 0 : BN_hex2bn(&raw, hex.c_str());
  OpenSslPtr<BIGNUM> number(raw);
  if (digits != static_cast<int>(hex.size()) || number == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "certificate serial " + hex + " is not hex");
  }
  OpenSslPtr<ASN1_INTEGER> serial(BN_to_ASN1_INTEGER(number.get(), nullptr));
  if (!serial) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "CRL serial"));
  }
  return serial;
}

Result<OpenSslPtr<ASN1_STRING>> Time(SystemTime at) {
  OpenSslPtr<ASN1_STRING> time(ASN1_TIME_set(nullptr, ToUnixSeconds(at)));
  if (!time) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "CRL time"));
  }
  return time;
}

Status AddEntry(X509_CRL* crl, const RevokedCertificate& entry) {
  ASSIGN_OR_RETURN(auto serial, SerialFromHex(entry.serial_hex));
  ASSIGN_OR_RETURN(auto when, Time(entry.revoked_at));
  OpenSslPtr<X509_REVOKED> revoked(X509_REVOKED_new());
  if (!revoked || X509_REVOKED_set_serialNumber(revoked.get(), serial.get()) != 1 ||
      X509_REVOKED_set_revocationDate(revoked.get(), when.get()) != 1 ||
      X509_CRL_add0_revoked(crl, revoked.get()) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "CRL entry"));
  }
  (void)revoked.release();  // owned by the CRL now
  return OkStatus();
}

}  // namespace

Result<Bytes> IssueCrl(const Certificate& issuer, const PrivateKey& issuer_key,
                       const std::vector<RevokedCertificate>& revoked, int64_t crl_number,
                       SystemTime this_update, SystemTime next_update) {
  OpenSslPtr<X509_CRL> crl(X509_CRL_new());
  ASSIGN_OR_RETURN(auto last, Time(this_update));
  ASSIGN_OR_RETURN(auto next, Time(next_update));
  if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.get())) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "CRL"));
  }
  for (const RevokedCertificate& entry : revoked) {
    RETURN_IF_ERROR(AddEntry(crl.get(), entry));
  }
  OpenSslPtr<ASN1_INTEGER> number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set_int64(number.get(), crl_number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "CRL number"));
  }
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer.get(), nullptr, nullptr, crl.get(), 0);
  OpenSslPtr<X509_EXTENSION> key_id(
      X509V3_EXT_conf_nid(nullptr, &context, NID_authority_key_identifier, "keyid:always"));
  if (!key_id || X509_CRL_add_ext(crl.get(), key_id.get(), -1) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "CRL authority key identifier"));
  }
  if (X509_CRL_sort(crl.get()) != 1 ||
      X509_CRL_sign(crl.get(), issuer_key.get(), EVP_sha256()) <= 0) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "signing the CRL"));
  }
  int size = i2d_X509_CRL(crl.get(), nullptr);
  Bytes der(static_cast<size_t>(std::max(size, 0)));
  uint8_t* out = der.data();
  if (size <= 0 || i2d_X509_CRL(crl.get(), &out) != size) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "encoding the CRL"));
  }
  return der;
}

Result<std::string> CrlToPem(ByteSpan der) {
  const uint8_t* in = der.data();
  OpenSslPtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &in, static_cast<long>(der.size())));
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!crl || !bio || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kBadFormat, "CRL"));
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

}  // namespace concierge::crypto
