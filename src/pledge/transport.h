#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/scheduler.h"
#include "crypto/certificate.h"
#include "crypto/identity.h"
#include "ownership/transfer.h"
#include "voucher/telemetry.h"
#include "voucher/voucher.h"

namespace concierge::pledge {

// VoucherReply is a registrar's answer to a voucher-request: the signed voucher, or "ask again
// after retry_after" while an operator has not approved the device (RFC 8995 §5.6).
struct VoucherReply {
  Bytes voucher;
  std::optional<std::chrono::seconds> retry_after;
};

// RegistrarConnection is one authenticated session with a registrar, as the pledge sees it:
// typed BRSKI and EST operations, whatever carries them (HTTPS now; CoAP/DTLS next). Each
// operation completes through its callback, at once or later; a refusal arrives as an Error
// whose code the transport mapped from its status (common/error.h).
class RegistrarConnection {
 public:
  virtual ~RegistrarConnection() = default;

  // The registrar's certificate and chain as the transport received them.
  virtual const crypto::Certificate& ServerCertificate() const = 0;
  virtual std::vector<crypto::Certificate> ServerChain() const = 0;

  // VoucherFormat is what this transport's voucher resource takes and answers in: CMS over
  // HTTPS (RFC 8995), COSE over CoAP (cBRSKI).
  virtual voucher::Format VoucherFormat() const { return voucher::Format::kCms; }

  // BRSKI (RFC 8995 §5.2, §5.7, §5.9.4); request is the signed voucher-request.
  virtual void RequestVoucher(Bytes request, Callback<VoucherReply> done) = 0;
  virtual void ReportStatus(voucher::StatusKind kind, const voucher::StatusReport& report,
                            Callback<void> done) = 0;
  // EST (RFC 7030 §4.1, §4.2, §4.5).
  virtual void CaCertificates(Callback<std::vector<crypto::Certificate>> done) = 0;
  virtual void CsrAttributes(Callback<Bytes> done) = 0;
  virtual void SimpleEnroll(Bytes csr_der, Callback<std::vector<crypto::Certificate>> done) = 0;
  // The site's device resources (docs/ownership.md): what to do next (nullopt: nothing), a
  // finished move to another owner, a reset about to happen.
  virtual void FetchInstruction(Callback<std::optional<ownership::MoveInstruction>> done) = 0;
  virtual void ConfirmMove(const crypto::Certificate& new_ldevid, Callback<void> done) = 0;
  virtual void ConfirmReset(Callback<void> done) = 0;
};

// Connector opens registrar sessions: provisional (anchors empty: any registrar accepted, as
// BRSKI's first connection is) or authenticated against anchors. The pledge logic never
// touches sockets itself.
class Connector {
 public:
  virtual ~Connector() = default;
  virtual void Open(const crypto::Credential& client,
                    const std::vector<crypto::Certificate>& anchors,
                    Callback<std::unique_ptr<RegistrarConnection>> done) = 0;
};

}  // namespace concierge::pledge
