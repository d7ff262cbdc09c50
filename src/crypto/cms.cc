#include "crypto/cms.h"

namespace concierge::crypto {
namespace {

Result<OpenSslPtr<CMS_ContentInfo>> ParseCms(ByteSpan der) {
  const unsigned char* p = der.data();
  OpenSslPtr<CMS_ContentInfo> cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms) {
    return std::unexpected(OpenSslError(ErrorCode::kBadFormat, "not a DER CMS structure"));
  }
  if (p != der.data() + der.size()) {
    return MakeError(ErrorCode::kBadFormat, "CMS structure has trailing bytes");
  }
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
    return MakeError(ErrorCode::kBadFormat, "CMS structure is not SignedData");
  }
  return cms;
}

// SignerCertificate returns the one signer's certificate (with a reference of its own) after
// CMS_verify has attached it. CMS_get0_signers hands back a stack that does not own its
// certificates, so only the stack itself is freed.
Result<Certificate> SignerCertificate(CMS_ContentInfo* cms) {
  X509StackShell signers(CMS_get0_signers(cms));
  int count = signers != nullptr ? sk_X509_num(signers.get()) : 0;
  std::optional<Certificate> signer;
  if (count == 1) {
    signer = Certificate::Share(sk_X509_value(signers.get(), 0));
  }
  if (!signer) {
    return MakeError(ErrorCode::kSecurity, "CMS signer certificate not included");
  }
  return *signer;
}

std::vector<Certificate> TakeCertificates(STACK_OF(X509) * certs) {
  std::vector<Certificate> out;
  for (int i = 0; i < sk_X509_num(certs); ++i) {
    out.push_back(Certificate::Share(sk_X509_value(certs, i)));
  }
  return out;
}

Result<Bytes> ToDer(CMS_ContentInfo* cms) {
  return EncodeDer(i2d_CMS_ContentInfo, cms, "CMS");
}

}  // namespace

Result<Bytes> CmsSign(ByteSpan content, const Certificate& signer, const PrivateKey& key,
                      const std::vector<Certificate>& extra_certs, const CmsSignOptions& options) {
  OpenSslPtr<STACK_OF(X509)> certs(sk_X509_new_null());
  for (const auto& cert : extra_certs) {
    PushShared(certs.get(), cert);
  }
  OpenSslPtr<BIO> in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  unsigned int flags = CMS_BINARY | CMS_NOSMIMECAP | (options.detached ? CMS_DETACHED : 0);
  // Partial first, so the eContentType can be set before the content is signed.
  OpenSslPtr<CMS_ContentInfo> cms(
      CMS_sign(signer.get(), key.get(), certs.get(), nullptr, flags | CMS_PARTIAL));
  OpenSslPtr<ASN1_OBJECT> type(OBJ_txt2obj(std::string(options.content_type).c_str(), 1));
  if (!cms || !type || CMS_set1_eContentType(cms.get(), type.get()) != 1 ||
      CMS_final(cms.get(), in.get(), nullptr, flags) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "CMS signing"));
  }
  return ToDer(cms.get());
}

Result<CmsSigned> CmsVerifySignature(ByteSpan der) {
  ASSIGN_OR_RETURN(auto cms, ParseCms(der));
  const ASN1_OBJECT* content_type = CMS_get0_eContentType(cms.get());
  char oid[80];
  OBJ_obj2txt(oid, sizeof(oid), content_type, 1);
  if (std::string_view(oid) != kOidData && std::string_view(oid) != kOidAnimaJsonVoucher) {
    return MakeError(ErrorCode::kBadFormat, std::string("CMS eContentType ") + oid +
                                                " is neither id-data nor id-ct-animaJSONVoucher");
  }
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms.get());
  if (sk_CMS_SignerInfo_num(signers) != 1) {
    return MakeError(ErrorCode::kBadFormat, "CMS SignedData must have exactly one signer");
  }
  if (CMS_signed_get_attr_count(sk_CMS_SignerInfo_value(signers, 0)) <= 0) {
    return MakeError(ErrorCode::kBadFormat, "CMS signer has no signed attributes");
  }
  ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
  if (content == nullptr || *content == nullptr) {
    return MakeError(ErrorCode::kBadFormat, "CMS SignedData has no encapsulated content");
  }
  OpenSslPtr<BIO> out(BIO_new(BIO_s_mem()));
  if (CMS_verify(cms.get(), nullptr, nullptr, nullptr, out.get(),
                 CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kSecurity, "CMS signature does not verify"));
  }
  ASSIGN_OR_RETURN(Certificate signer, SignerCertificate(cms.get()));
  char* data = nullptr;
  long size = BIO_get_mem_data(out.get(), &data);
  OpenSslPtr<STACK_OF(X509)> all(CMS_get1_certs(cms.get()));
  return CmsSigned{Bytes(data, data + size), oid, signer, TakeCertificates(all.get())};
}

Result<CmsDetachedSignature> CmsVerifyDetached(ByteSpan content, ByteSpan der) {
  ASSIGN_OR_RETURN(auto cms, ParseCms(der));
  // Also keeps CMS_verify off its path for embedded content plus supplied data, which leaks
  // in OpenSSL 3.0.
  if (CMS_is_detached(cms.get()) != 1) {
    return MakeError(ErrorCode::kBadFormat, "CMS signature is not detached (it embeds content)");
  }
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms.get());
  if (sk_CMS_SignerInfo_num(signers) != 1) {
    return MakeError(ErrorCode::kBadFormat, "CMS SignedData must have exactly one signer");
  }
  CMS_SignerInfo* info = sk_CMS_SignerInfo_value(signers, 0);
  if (CMS_signed_get_attr_count(info) <= 0) {
    return MakeError(ErrorCode::kBadFormat, "CMS signer has no signed attributes");
  }
  // The content goes through a buffer BIO, not a bare memory BIO: given a memory BIO, OpenSSL
  // 3.0's CMS_verify makes a copy of it that it leaks when the SignedData names a digest it
  // does not know (found by fuzzing; 272 bytes per request).
  OpenSslPtr<BIO> data(BIO_new(BIO_f_buffer()));
  OpenSslPtr<BIO> memory(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
  if (!data || !memory) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "CMS content buffer"));
  }
  BIO_push(data.get(), memory.release());  // freed with data (BIO_free_all)
  if (CMS_verify(cms.get(), nullptr, nullptr, data.get(), nullptr,
                 CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY | CMS_DETACHED) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kSecurity, "CMS signature does not verify"));
  }
  ASSIGN_OR_RETURN(Certificate signer, SignerCertificate(cms.get()));
  std::optional<SystemTime> signing_time;
  int index = CMS_signed_get_attr_by_NID(info, NID_pkcs9_signingTime, -1);
  if (index >= 0) {
    ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(info, index), 0);
    std::tm tm{};
    if (value != nullptr &&
        (value->type == V_ASN1_UTCTIME || value->type == V_ASN1_GENERALIZEDTIME) &&
        ASN1_TIME_to_tm(value->value.asn1_string, &tm) == 1) {
      signing_time = FromUnixSeconds(timegm(&tm));
    }
  }
  OpenSslPtr<STACK_OF(X509)> all(CMS_get1_certs(cms.get()));
  return CmsDetachedSignature{signer, TakeCertificates(all.get()), signing_time};
}

Result<Bytes> CertsOnlyDer(const std::vector<Certificate>& certs) {
  OpenSslPtr<STACK_OF(X509)> stack(sk_X509_new_null());
  for (const auto& cert : certs) {
    PushShared(stack.get(), cert);
  }
  OpenSslPtr<CMS_ContentInfo> cms(
      CMS_sign(nullptr, nullptr, stack.get(), nullptr, CMS_PARTIAL | CMS_BINARY));
  // Detached drops the empty eContent CMS_sign leaves, as `openssl crl2pkcs7` does.
  if (!cms || CMS_set_detached(cms.get(), 1) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "building certs-only CMS"));
  }
  return ToDer(cms.get());
}

Result<std::vector<Certificate>> ParseCertsOnly(ByteSpan der) {
  ASSIGN_OR_RETURN(auto cms, ParseCms(der));
  OpenSslPtr<STACK_OF(X509)> certs(CMS_get1_certs(cms.get()));
  if (!certs || sk_X509_num(certs.get()) == 0) {
    return MakeError(ErrorCode::kBadFormat, "certs-only CMS holds no certificate");
  }
  return TakeCertificates(certs.get());
}

}  // namespace concierge::crypto
