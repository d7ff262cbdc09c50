#pragma once

#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/clock.h"
#include "crypto/cms.h"

namespace concierge::voucher {

inline constexpr std::string_view kVoucherCmsMediaType = "application/voucher-cms+json";
// cBRSKI's COSE_Sign1 over SID-keyed CBOR, for vouchers and voucher-requests alike; CoAP
// content-format 836.
inline constexpr std::string_view kVoucherCoseMediaType = "application/voucher+cose";

// Format is how a voucher or voucher-request is encoded and signed: JSON in CMS (RFC 8995) or
// CBOR in COSE_Sign1 (cBRSKI). A registrar asks the MASA in the format the pledge used.
enum class Format { kCms, kCose };

std::string_view FormatMediaType(Format format);
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
  Bytes pinned_domain_pubk;  // DER SubjectPublicKeyInfo (cBRSKI's raw-public-key pinning)
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
  Bytes proximity_registrar_pubk;      // PVR (cBRSKI): its SubjectPublicKeyInfo, DER
  Bytes idevid_issuer;                 // RVR
  Bytes prior_signed_voucher_request;  // RVR: the whole CMS PVR
};

std::string EncodeVoucherJson(const Voucher& voucher);
Result<Voucher> DecodeVoucherJson(std::string_view json);

std::string EncodeVoucherRequestJson(const VoucherRequest& request);
Result<VoucherRequest> DecodeVoucherRequestJson(std::string_view json);

// Signed<T> is an artifact whose signature verified against `signer`, with the bytes it
// arrived as (a registrar forwards the pledge's request whole). For CMS the signer and
// `certificates` are what the SignedData carries; for COSE they are the certificate whose key
// verified and the bag it came from. The caller still decides whether that signer is trusted.
template <typename T>
struct Signed {
  T value;
  Format format = Format::kCms;
  crypto::Certificate signer;
  std::vector<crypto::Certificate> certificates;
  Bytes encoded;
  std::string cms_content_type;  // eContentType, dotted (CMS only)
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

// NamesRegistrar is true when a pledge's request names this registrar as the pledge saw it in
// the handshake: by its certificate (RFC 8995) or its public key (cBRSKI).
bool NamesRegistrar(const VoucherRequest& pvr, const crypto::Certificate& registrar);

// DomainId names a domain by its pinned certificate as RFC 8995 §5.8.2 does: the base64
// SubjectKeyIdentifier, or the base64 SHA-256 of the SubjectPublicKeyInfo when there is none.
std::string DomainId(const crypto::Certificate& domain_cert);

}  // namespace concierge::voucher
