#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "common/random.h"
#include "common/scheduler.h"
#include "crypto/certificate.h"
#include "crypto/identity.h"
#include "crypto/key.h"
#include "registrar/site_store.h"
#include "voucher/telemetry.h"
#include "voucher/voucher.h"

namespace concierge::registrar {

struct RegistrarIdentity {
  std::string site_name;
  crypto::Certificate domain_ca;
  crypto::PrivateKey domain_ca_key;
  crypto::Certificate registrar_cert;
  crypto::PrivateKey registrar_key;
};

// MasaClient is the registrar's seam to a MASA: production speaks HTTPS, tests answer in
// memory. RequestVoucher returns the voucher bytes, or an error carrying the MASA's message.
class MasaClient {
 public:
  virtual ~MasaClient() = default;
  // rvr is a registrar voucher-request in `format`; the voucher comes back in the same one.
  virtual Result<Bytes> RequestVoucher(const std::string& masa_base_url, voucher::Format format,
                                       ByteSpan rvr) = 0;

  // RequestVoucherAsync is RequestVoucher without holding the caller's thread while the MASA
  // thinks: done runs when the answer is in, on a thread of the client's choosing. A client
  // that answers at once (in memory) may keep this default.
  virtual void RequestVoucherAsync(const std::string& masa_base_url, voucher::Format format,
                                   Bytes rvr, Callback<Bytes> done) {
    done(RequestVoucher(masa_base_url, format, rvr));
  }

  // DropCalls abandons the asynchronous calls in flight, whose callbacks are then never run,
  // and waits for any callback that is running: the registrar they would call back is about to
  // go.
  virtual void DropCalls() {}

  // The ownership resources (docs/ownership.md) beside the MASA's BRSKI ones.
  virtual Result<Bytes> FetchChain(const std::string& masa_base_url, const std::string& serial) = 0;
  virtual Status SubmitChain(const std::string& masa_base_url, ByteSpan chain) = 0;
  virtual Result<std::string> SubmitStatement(const std::string& masa_base_url,
                                              ByteSpan statement) = 0;
};

// PeerIdentity is what the transport authenticated; its address is recorded as the device's.
using PeerIdentity = crypto::PeerIdentity;

// RequireClientCertificate refuses a peer that presented no certificate. Transports call it
// before decoding a request's body, so a stranger's bytes are not parsed; the service calls it
// again for transports that do not.
Status RequireClientCertificate(const PeerIdentity& peer, std::string_view credential);

// VoucherOutcome is either a voucher for the pledge, in the format of its request, or "ask
// again later" (HTTP 202).
struct VoucherOutcome {
  Bytes voucher;
  std::optional<std::chrono::seconds> retry_after;
};

struct RegistrarPolicy {
  std::chrono::hours ldevid_validity{24 * 365};
  std::chrono::seconds pending_retry_after{5};
};

// MasaBaseUrl turns an IDevID's MASA URL extension into the base URL of the BRSKI resources
// (RFC 8995 §2.3.2: an authority alone gets "https://" and "/.well-known/brski").
Result<std::string> MasaBaseUrl(const crypto::Certificate& idevid);

// RegistrarService is the BRSKI registrar and EST CA (RFC 8995 §5, RFC 7030) without I/O:
// each call takes a message a transport's codec decoded and the peer the transport
// authenticated, and returns what to answer. Thread-safe.
class RegistrarService {
 public:
  RegistrarService(SiteStore& store, MasaClient& masa, const Clock& clock, Random& random,
                   RegistrarIdentity identity, RegistrarPolicy policy = {});

  // RequestVoucher takes the pledge's voucher-request, already opened (size and signature).
  Result<VoucherOutcome> RequestVoucher(const voucher::Signed<voucher::VoucherRequest>& pvr,
                                        const PeerIdentity& peer);
  // RequestVoucherAsync is RequestVoucher for a server: the call to the MASA holds no thread,
  // and done runs on the MASA client's thread when its answer has been checked and recorded.
  // The service must outlive the call (a server stops before its service goes).
  void RequestVoucherAsync(const voucher::Signed<voucher::VoucherRequest>& pvr,
                           const PeerIdentity& peer, Callback<VoucherOutcome> done);
  Status ReportStatus(voucher::StatusKind kind, const voucher::StatusReport& report,
                      const PeerIdentity& peer);
  std::vector<crypto::Certificate> CaCertificates() const;
  // SimpleEnroll issues an LDevID to a pledge whose voucher succeeded.
  Result<crypto::Certificate> SimpleEnroll(ByteSpan csr_der, const PeerIdentity& peer);
  // SimpleReenroll renews the LDevID the peer authenticates with.
  Result<crypto::Certificate> SimpleReenroll(ByteSpan csr_der, const PeerIdentity& peer);

  // AuthenticateLdevid accepts a current, unrevoked LDevID this site issued to a device that
  // still belongs here.
  Result<DeviceRecord> AuthenticateLdevid(const PeerIdentity& peer);

  const RegistrarIdentity& identity() const { return identity_; }

 private:
  struct Pledge {
    TrustedMaker maker;
    crypto::Certificate idevid;
  };

  // VoucherCall is a voucher-request checked and signed for the MASA, or the answer to give
  // without asking it (a device still waiting for approval).
  struct VoucherCall {
    std::optional<VoucherOutcome> answer_now;
    std::string masa_url;
    std::string serial;
    Bytes nonce;
    crypto::Certificate maker_ca;
    SeenDevice seen;
    voucher::Format format = voucher::Format::kCms;
    Bytes rvr;
  };

  Result<VoucherCall> PrepareVoucherCall(const voucher::Signed<voucher::VoucherRequest>& pvr,
                                         const PeerIdentity& peer);
  // AcceptVoucher checks the MASA's answer against the call and records it.
  Result<VoucherOutcome> AcceptVoucher(const VoucherCall& call, Result<Bytes> voucher);

  // IdentifyPledge finds the trusted maker whose CA the IDevID chains to, at the clock's now.
  Result<Pledge> IdentifyPledge(const PeerIdentity& peer);
  // DeviceOfLdevid is the device an LDevID whose chain was verified belongs to, if the
  // certificate is unrevoked and the device still belongs here.
  Result<DeviceRecord> DeviceOfLdevid(const crypto::Certificate& cert);
  // IdentifyDevice accepts an IDevID (of a known device) or an LDevID this site issued.
  Result<DeviceRecord> IdentifyDevice(const PeerIdentity& peer);
  // TrustedMakers returns the makers, parsed once and re-read only when the store's set
  // changes, so that `site trust-maker` reaches a running registrar at once.
  Result<std::vector<TrustedMaker>> TrustedMakers();
  Result<crypto::Certificate> IssueLdevid(const DeviceRecord& device, ByteSpan csr_der,
                                          const std::string& expected_serial,
                                          const std::string& address);

  SiteStore& store_;
  MasaClient& masa_;
  const Clock& clock_;
  Random& random_;
  RegistrarIdentity identity_;
  RegistrarPolicy policy_;
  std::mutex makers_mutex_;
  std::vector<TrustedMaker> makers_;
  int64_t makers_version_ = -1;
};

}  // namespace concierge::registrar
