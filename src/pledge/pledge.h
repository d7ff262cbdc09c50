#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "crypto/certificate.h"
#include "crypto/key.h"
#include "http/http_message.h"
#include "http/tls.h"

namespace concierge::pledge {

// RegistrarConnection is one TLS connection to a registrar, as the pledge sees it.
class RegistrarConnection {
 public:
  virtual ~RegistrarConnection() = default;
  virtual Result<http::HttpResponse> Post(std::string_view path, std::string_view content_type,
                                          std::string body, std::string_view accept) = 0;
  virtual Result<http::HttpResponse> Get(std::string_view path, std::string_view accept) = 0;
  virtual const crypto::Certificate& ServerCertificate() const = 0;
  virtual std::vector<crypto::Certificate> ServerChain() const = 0;
};

// Connector opens registrar connections: provisional (anchors empty: any server accepted) or
// authenticated against anchors. The pledge logic never touches sockets itself.
class Connector {
 public:
  virtual ~Connector() = default;
  virtual Result<std::unique_ptr<RegistrarConnection>> Open(
      const http::TlsIdentity& client, const std::vector<crypto::Certificate>& anchors) = 0;
};

struct PledgeIdentity {
  crypto::Certificate idevid;
  crypto::PrivateKey key;
  std::vector<crypto::Certificate> chain;         // sent after the IDevID in TLS and CMS
  std::vector<crypto::Certificate> masa_anchors;  // who may sign vouchers for this device
};

struct PledgeOptions {
  size_t nonce_size = 16;
  // A registrar's 202 Retry-After is capped at 60 s (RFC 8995 §5.6); the pledge gives up after
  // max_pending_wait in total.
  std::chrono::seconds max_retry_after{60};
  std::chrono::seconds max_pending_wait{600};
  std::function<void(std::chrono::seconds)> sleep;  // injected so tests do not wait
  // accept_domain, when set, decides whether the domain a valid voucher pins may have the
  // device (a device changing owners accepts only the owner its chain names).
  std::function<Status(const crypto::Certificate& pinned)> accept_domain;
};

struct EnrollResult {
  Bytes voucher_cms;
  crypto::Certificate ldevid;
  crypto::PrivateKey ldevid_key;
  std::vector<crypto::Certificate> domain_anchors;
  int pending_rounds = 0;
};

// Pledge runs the device side of BRSKI (RFC 8995 §5.2–5.9): provisional TLS, a signed
// voucher-request with a fresh nonce, voucher checks, registrar re-validation against the
// pinned domain certificate, EST enrollment, and telemetry. Failures after the voucher is
// received are reported to the registrar before Enroll returns the error.
class Pledge {
 public:
  Pledge(PledgeIdentity identity, Connector& connector, const Clock& clock, Random& random,
         PledgeOptions options = {});

  Result<EnrollResult> Enroll();

 private:
  struct VoucherStep {
    Bytes voucher_cms;
    crypto::Certificate pinned;
    int pending_rounds = 0;
  };

  Result<VoucherStep> ObtainVoucher(RegistrarConnection& connection);
  Result<crypto::Certificate> CheckVoucher(ByteSpan voucher_cms, const Bytes& nonce);
  Result<std::vector<crypto::Certificate>> FetchDomainAnchors(RegistrarConnection& connection,
                                                              const crypto::Certificate& pinned);
  Result<std::pair<crypto::Certificate, crypto::PrivateKey>> EnrollLdevid(
      RegistrarConnection& connection, const std::vector<crypto::Certificate>& anchors);
  void Report(RegistrarConnection& connection, std::string_view resource, const Error* failure);

  PledgeIdentity identity_;
  Connector& connector_;
  const Clock& clock_;
  Random& random_;
  PledgeOptions options_;
  std::string serial_;
};

}  // namespace concierge::pledge
