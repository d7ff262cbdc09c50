#pragma once

#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/clock.h"
#include "crypto/cms.h"

namespace concierge::voucher {

inline constexpr std::string_view kVoucherCmsMediaType = "application/voucher-cms+json";
inline constexpr size_t kMinNonceSize = 8;
inline constexpr size_t kMaxNonceSize = 32;
// Bounds on signed artifacts. A registrar's request carries the pledge's whole (base64, so 4/3
// of its size) beside its own certificates, so it may be larger: every pledge request the
// registrar accepts must fit in the request it makes of it.
inline constexpr size_t kMaxPledgeVoucherRequestSize = size_t{64} * 1024;
inline constexpr size_t kMaxRegistrarVoucherRequestSize = size_t{128} * 1024;
inline constexpr size_t kMaxVoucherSize = size_t{32} * 1024;

// Who signed a voucher-request: the pledge (PVR) or the registrar (RVR).
enum class RequestFrom { kPledge, kRegistrar };

enum class Assertion { kVerified, kLogged, kProximity, kAgentProximity };

std::string_view AssertionName(Assertion assertion);

// Voucher is the RFC 8366 / 8366bis voucher (container "ietf-voucher:voucher").
struct Voucher {
  Assertion assertion = Assertion::kLogged;
  SystemTime created_on;
  std::optional<SystemTime> expires_on;
  std::string serial_number;
  Bytes nonce;               // empty for a nonceless voucher
  Bytes pinned_domain_cert;  // DER
  Bytes idevid_issuer;       // empty to omit
  bool domain_cert_revocation_checks = false;
};

// VoucherRequest is a pledge (PVR) or registrar (RVR) voucher-request
// (container "ietf-voucher-request:voucher").
struct VoucherRequest {
  Assertion assertion = Assertion::kProximity;
  std::optional<SystemTime> created_on;
  std::string serial_number;
  Bytes nonce;
  Bytes proximity_registrar_cert;      // PVR: the registrar's TLS certificate, DER
  Bytes idevid_issuer;                 // RVR
  Bytes prior_signed_voucher_request;  // RVR: the whole CMS PVR
};

std::string EncodeVoucherJson(const Voucher& voucher);
Result<Voucher> DecodeVoucherJson(std::string_view json);

std::string EncodeVoucherRequestJson(const VoucherRequest& request);
Result<VoucherRequest> DecodeVoucherRequestJson(std::string_view json);

// Signed<T> is an artifact whose CMS signature verified against the certificate it carries,
// with the bytes it arrived as (a registrar forwards the pledge's request whole). The caller
// still decides whether that signer is trusted.
template <typename T>
struct Signed {
  T value;
  crypto::CmsSigned cms;
  Bytes encoded;
};

Result<Bytes> SignVoucher(const Voucher& voucher, const crypto::Certificate& signer,
                          const crypto::PrivateKey& key,
                          const std::vector<crypto::Certificate>& chain);
Result<Signed<Voucher>> OpenVoucher(ByteSpan cms_der);

Result<Bytes> SignVoucherRequest(const VoucherRequest& request, const crypto::Certificate& signer,
                                 const crypto::PrivateKey& key,
                                 const std::vector<crypto::Certificate>& chain);
// OpenVoucherRequest checks a voucher-request's size against its signer's bound, naming which
// request it is, then its signature.
Result<Signed<VoucherRequest>> OpenVoucherRequest(ByteSpan cms_der, RequestFrom from);

}  // namespace concierge::voucher

namespace concierge::voucher {

// DomainId names a domain by its pinned certificate as RFC 8995 §5.8.2 does: the base64
// SubjectKeyIdentifier, or the base64 SHA-256 of the SubjectPublicKeyInfo when there is none.
std::string DomainId(const crypto::Certificate& domain_cert);

}  // namespace concierge::voucher
