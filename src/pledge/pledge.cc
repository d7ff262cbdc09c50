#include "pledge/pledge.h"

#include <algorithm>

#include "crypto/certificate_builder.h"
#include "crypto/cms.h"
#include "voucher/cose_voucher.h"
#include "voucher/voucher.h"

namespace concierge::pledge {

using crypto::Certificate;
using voucher::StatusKind;
using voucher::StatusReport;

// Run is one enrollment in flight: each step starts an operation and the next step is its
// callback. It holds itself alive through the callbacks it hands out (shared_from_this).
class Pledge::Run : public std::enable_shared_from_this<Run> {
 public:
  Run(Pledge& pledge, Callback<EnrollResult> done) : pledge_(pledge), done_(std::move(done)) {}

  void Start();
  // Abandon is for a pledge destroyed mid-flight: a pending timer is cancelled and nothing
  // is reported.
  void Abandon();

 private:
  void SendVoucherRequest();
  void OnVoucherReply(Result<VoucherReply> reply);
  Result<Certificate> CheckVoucher(ByteSpan signed_voucher) const;
  void OnVoucherAccepted();
  void OnCaCertificates(Result<std::vector<Certificate>> certs);
  void SendCsr();
  void OnLdevid(Result<std::vector<Certificate>> certs);
  void OnConfirmedConnection(Result<std::unique_ptr<RegistrarConnection>> confirmed);

  // Fail reports a failure on the connection (telemetry is best effort: its answer changes
  // nothing) and then finishes with the error.
  void Fail(RegistrarConnection& connection, StatusKind kind, Error error);
  void Finish(Result<EnrollResult> result);

  Pledge& pledge_;
  Callback<EnrollResult> done_;
  bool finished_ = false;
  std::optional<TimerId> retry_timer_;
  std::unique_ptr<RegistrarConnection> provisional_;
  std::unique_ptr<RegistrarConnection> confirmed_;
  std::chrono::seconds waited_{0};
  int round_ = 0;
  Bytes nonce_;
  Bytes voucher_cms_;
  std::optional<Certificate> pinned_;
  std::vector<Certificate> anchors_;
  std::optional<crypto::PrivateKey> ldevid_key_;
  std::optional<Certificate> ldevid_;
};

void Pledge::Run::Start() {
  const PledgeIdentity& identity = pledge_.identity_;
  pledge_.connector_.Open(
      crypto::Credential{identity.idevid, identity.key, identity.chain}, {},
      [self = shared_from_this()](Result<std::unique_ptr<RegistrarConnection>> connection) {
        if (!connection) {
          self->Finish(std::unexpected(connection.error()));
          return;
        }
        self->provisional_ = std::move(*connection);
        self->SendVoucherRequest();
      });
}

void Pledge::Run::Abandon() {
  finished_ = true;
  if (retry_timer_) {
    pledge_.scheduler_.Cancel(*retry_timer_);
  }
}

void Pledge::Run::SendVoucherRequest() {
  voucher::VoucherRequest pvr;
  pvr.assertion = voucher::Assertion::kProximity;
  pvr.serial_number = pledge_.serial_;
  pvr.nonce = pledge_.random_.Generate(pledge_.options_.nonce_size);
  const PledgeIdentity& identity = pledge_.identity_;
  Result<Bytes> signed_pvr;
  if (provisional_->VoucherFormat() == voucher::Format::kCose) {
    // cBRSKI's small request: the registrar's key rather than its certificate, no date (a
    // constrained device may have no clock), and no certificates: the registrar has the
    // pledge's from the DTLS handshake.
    auto spki = provisional_->ServerCertificate().PublicKeyDer();
    if (!spki) {
      Finish(std::unexpected(spki.error()));
      return;
    }
    pvr.proximity_registrar_pubk = std::move(*spki);
    signed_pvr = voucher::SignCoseVoucherRequest(pvr, identity.key, {});
  } else {
    pvr.created_on = pledge_.clock_.Now();
    pvr.proximity_registrar_cert = provisional_->ServerCertificate().Der();
    signed_pvr = voucher::SignVoucherRequest(pvr, identity.idevid, identity.key, identity.chain);
  }
  if (!signed_pvr) {
    Finish(std::unexpected(signed_pvr.error()));
    return;
  }
  nonce_ = pvr.nonce;
  provisional_->RequestVoucher(std::move(*signed_pvr),
                               [self = shared_from_this()](Result<VoucherReply> reply) {
                                 self->OnVoucherReply(std::move(reply));
                               });
}

void Pledge::Run::OnVoucherReply(Result<VoucherReply> reply) {
  if (!reply) {
    Finish(std::unexpected(reply.error().WithContext("the voucher request")));
    return;
  }
  if (reply->retry_after) {
    const PledgeOptions& options = pledge_.options_;
    auto retry = std::clamp(*reply->retry_after, std::chrono::seconds(1), options.max_retry_after);
    if (waited_ + retry > options.max_pending_wait) {
      Finish(MakeError(ErrorCode::kTimeout, "registrar kept the device pending for " +
                                                std::to_string(waited_.count()) + " s"));
      return;
    }
    waited_ += retry;
    ++round_;
    retry_timer_ = pledge_.scheduler_.After(retry, [self = shared_from_this()] {
      self->retry_timer_.reset();
      if (!self->finished_) {
        self->SendVoucherRequest();
      }
    });
    return;
  }
  voucher_cms_ = std::move(reply->voucher);
  auto pinned = CheckVoucher(voucher_cms_);
  if (!pinned) {
    Fail(*provisional_, StatusKind::kVoucherStatus, pinned.error().WithContext("voucher refused"));
    return;
  }
  pinned_ = *pinned;
  // The voucher turns the provisional session into a trusted one only if the registrar's
  // certificate chains to what the MASA pinned.
  auto registrar_trusted =
      crypto::VerifyChain(provisional_->ServerCertificate(), provisional_->ServerChain(),
                          {*pinned_}, {.at = pledge_.clock_.Now(), .allow_partial = true});
  if (!registrar_trusted) {
    Fail(*provisional_, StatusKind::kVoucherStatus,
         registrar_trusted.error().WithContext("registrar not the pinned domain"));
    return;
  }
  if (pledge_.options_.accept_domain) {
    if (auto accepted = pledge_.options_.accept_domain(*pinned_); !accepted) {
      Fail(*provisional_, StatusKind::kVoucherStatus, accepted.error());
      return;
    }
  }
  provisional_->ReportStatus(StatusKind::kVoucherStatus, StatusReport{},
                             [self = shared_from_this()](Status) { self->OnVoucherAccepted(); });
}

Result<Certificate> Pledge::Run::CheckVoucher(ByteSpan signed_voucher) const {
  // A COSE voucher arrives without certificates: it must verify with a key the maker put in
  // the device.
  ASSIGN_OR_RETURN(auto v,
                   provisional_->VoucherFormat() == voucher::Format::kCose
                       ? voucher::OpenCoseVoucher(signed_voucher, pledge_.identity_.masa_anchors)
                       : voucher::OpenVoucher(signed_voucher));
  SystemTime now = pledge_.clock_.Now();
  RETURN_IF_ERROR_CTX(
      crypto::VerifyChain(v.signer, v.certificates, pledge_.identity_.masa_anchors, {.at = now}),
      "voucher signer is not this device's MASA");
  if (v.value.serial_number != pledge_.serial_) {
    return MakeError(ErrorCode::kSecurity, "voucher is for serial \"" + v.value.serial_number +
                                               "\", not this device's \"" + pledge_.serial_ + "\"");
  }
  if (!ConstantTimeEqual(v.value.nonce, nonce_)) {
    return MakeError(ErrorCode::kSecurity, "voucher nonce does not match the request's nonce");
  }
  if (v.value.expires_on && *v.value.expires_on < now) {
    return MakeError(ErrorCode::kSecurity,
                     "voucher expired at " + FormatRfc3339(*v.value.expires_on));
  }
  ASSIGN_OR_RETURN_CTX(Certificate pinned, Certificate::FromDer(v.value.pinned_domain_cert),
                       "voucher.pinned-domain-cert");
  return pinned;
}

void Pledge::Run::OnVoucherAccepted() {
  provisional_->CaCertificates([self = shared_from_this()](Result<std::vector<Certificate>> certs) {
    self->OnCaCertificates(std::move(certs));
  });
}

void Pledge::Run::OnCaCertificates(Result<std::vector<Certificate>> certs) {
  if (!certs) {
    Fail(*provisional_, StatusKind::kEnrollStatus, certs.error().WithContext("/cacerts"));
    return;
  }
  anchors_ = {*pinned_};
  for (const auto& cert : *certs) {
    if (!(cert == *pinned_) &&
        crypto::VerifyChain(cert, *certs, {*pinned_},
                            {.at = pledge_.clock_.Now(), .allow_partial = true})) {
      anchors_.push_back(cert);
    }
  }
  // BRSKI pledges must ask for CSR attributes (RFC 8995 §5.9.2); this pledge always makes a
  // P-256 key signed with ECDSA-SHA256, which is all this project's registrar asks for.
  provisional_->CsrAttributes([self = shared_from_this()](Result<Bytes>) { self->SendCsr(); });
}

void Pledge::Run::SendCsr() {
  auto key = crypto::PrivateKey::GenerateP256();
  if (!key) {
    Fail(*provisional_, StatusKind::kEnrollStatus, key.error());
    return;
  }
  auto csr = crypto::Csr::CreateDer(*key, {pledge_.serial_, pledge_.serial_, ""});
  if (!csr) {
    Fail(*provisional_, StatusKind::kEnrollStatus, csr.error());
    return;
  }
  ldevid_key_ = std::move(*key);
  provisional_->SimpleEnroll(std::move(*csr),
                             [self = shared_from_this()](Result<std::vector<Certificate>> certs) {
                               self->OnLdevid(std::move(certs));
                             });
}

void Pledge::Run::OnLdevid(Result<std::vector<Certificate>> certs) {
  if (!certs || certs->empty()) {
    Error error =
        certs ? Error(ErrorCode::kBadFormat, "no certificate in the answer") : certs.error();
    Fail(*provisional_, StatusKind::kEnrollStatus, error.WithContext("/simpleenroll"));
    return;
  }
  const Certificate& ldevid = certs->front();
  auto verified = crypto::VerifyChain(ldevid, *certs, anchors_,
                                      {.at = pledge_.clock_.Now(), .allow_partial = true});
  if (!verified) {
    Fail(*provisional_, StatusKind::kEnrollStatus, verified.error().WithContext("LDevID"));
    return;
  }
  if (EVP_PKEY_eq(ldevid.PublicKey(), ldevid_key_->get()) != 1 ||
      ldevid.SubjectSerialNumber() != pledge_.serial_) {
    Fail(*provisional_, StatusKind::kEnrollStatus,
         Error(ErrorCode::kSecurity, "LDevID does not certify this device's new key"));
    return;
  }
  ldevid_ = ldevid;
  // Success is reported over a new session that proves the LDevID works (RFC 8995 §5.9.4).
  pledge_.connector_.Open(
      crypto::Credential{*ldevid_, *ldevid_key_, {}}, anchors_,
      [self = shared_from_this()](Result<std::unique_ptr<RegistrarConnection>> confirmed) {
        self->OnConfirmedConnection(std::move(confirmed));
      });
}

void Pledge::Run::OnConfirmedConnection(Result<std::unique_ptr<RegistrarConnection>> confirmed) {
  if (!confirmed) {
    Fail(*provisional_, StatusKind::kEnrollStatus,
         confirmed.error().WithContext("LDevID connection"));
    return;
  }
  confirmed_ = std::move(*confirmed);
  confirmed_->ReportStatus(
      StatusKind::kEnrollStatus, StatusReport{}, [self = shared_from_this()](Status) {
        self->Finish(EnrollResult{self->voucher_cms_, *self->ldevid_, *self->ldevid_key_,
                                  self->anchors_, self->round_});
      });
}

void Pledge::Run::Fail(RegistrarConnection& connection, StatusKind kind, Error error) {
  connection.ReportStatus(
      kind, StatusReport{false, error.message()},
      [self = shared_from_this(), error](Status) { self->Finish(std::unexpected(error)); });
}

void Pledge::Run::Finish(Result<EnrollResult> result) {
  if (finished_) {
    return;
  }
  finished_ = true;
  // The sessions stay open until the run is dropped: this may be running inside one of them.
  done_(std::move(result));
}

Pledge::Pledge(PledgeIdentity identity, Connector& connector, const Clock& clock,
               Scheduler& scheduler, Random& random, PledgeOptions options)
    : identity_(std::move(identity)),
      connector_(connector),
      clock_(clock),
      scheduler_(scheduler),
      random_(random),
      options_(std::move(options)),
      serial_(identity_.idevid.SubjectSerialNumber()) {}

Pledge::~Pledge() {
  if (run_) {
    run_->Abandon();
  }
}

void Pledge::Enroll(Callback<EnrollResult> done) {
  if (run_) {
    run_->Abandon();
  }
  run_ = std::make_shared<Run>(*this, std::move(done));
  run_->Start();
}

Result<EnrollResult> Pledge::EnrollAndWait() {
  auto result = Await<EnrollResult>(
      scheduler_, [this](Callback<EnrollResult> done) { Enroll(std::move(done)); });
  // Done: the run and its sessions go, so nothing stays connected after the answer.
  run_->Abandon();
  run_.reset();
  return result;
}

}  // namespace concierge::pledge
