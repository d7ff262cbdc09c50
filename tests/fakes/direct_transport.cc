#include "fakes/direct_transport.h"

#include "voucher/cose_voucher.h"
#include "voucher/voucher.h"

namespace concierge::testing {
namespace {

using crypto::Certificate;

class DirectConnection final : public pledge::RegistrarConnection {
 public:
  DirectConnection(DirectConnector& link, crypto::PeerIdentity peer)
      : link_(link), peer_(std::move(peer)) {}

  const Certificate& ServerCertificate() const override {
    return link_.service().identity().registrar_cert;
  }

  std::vector<Certificate> ServerChain() const override {
    return {link_.service().identity().domain_ca};
  }

  voucher::Format VoucherFormat() const override { return link_.format; }

  void RequestVoucher(Bytes request, Callback<pledge::VoucherReply> done) override {
    ++link_.operations;
    link_.Deliver(std::move(done), [&]() -> Result<pledge::VoucherReply> {
      // A COSE request is verified with the key the transport authenticated, as cBRSKI says.
      ASSIGN_OR_RETURN(auto pvr,
                       link_.format == voucher::Format::kCose
                           ? voucher::OpenCoseVoucherRequest(request, voucher::RequestFrom::kPledge,
                                                             {*peer_.certificate})
                           : voucher::OpenVoucherRequest(request, voucher::RequestFrom::kPledge));
      ASSIGN_OR_RETURN(auto outcome, link_.service().RequestVoucher(pvr, peer_));
      if (link_.rewrite_voucher && !outcome.voucher.empty()) {
        link_.rewrite_voucher(outcome.voucher);
      }
      return pledge::VoucherReply{std::move(outcome.voucher), outcome.retry_after};
    }());
  }

  void ReportStatus(voucher::StatusKind kind, const voucher::StatusReport& report,
                    Callback<void> done) override {
    ++link_.operations;
    link_.Deliver(std::move(done), link_.service().ReportStatus(kind, report, peer_));
  }

  void CaCertificates(Callback<std::vector<Certificate>> done) override {
    ++link_.operations;
    link_.Deliver(std::move(done),
                  Result<std::vector<Certificate>>(link_.service().CaCertificates()));
  }

  void CsrAttributes(Callback<Bytes> done) override {
    ++link_.operations;
    link_.Deliver(std::move(done), Result<Bytes>(Bytes{}));
  }

  void SimpleEnroll(Bytes csr_der, Callback<std::vector<Certificate>> done) override {
    ++link_.operations;
    link_.Deliver(std::move(done), [&]() -> Result<std::vector<Certificate>> {
      ASSIGN_OR_RETURN(Certificate issued, link_.service().SimpleEnroll(csr_der, peer_));
      return std::vector<Certificate>{issued};
    }());
  }

  void FetchInstruction(Callback<std::optional<ownership::MoveInstruction>> done) override {
    ++link_.operations;
    link_.Deliver(std::move(done), link_.ownership().Instruction(peer_));
  }

  void ConfirmMove(const Certificate& new_ldevid, Callback<void> done) override {
    ++link_.operations;
    link_.Deliver(std::move(done), link_.ownership().ConfirmMove(peer_, new_ldevid.Der()));
  }

  void ConfirmReset(Callback<void> done) override {
    ++link_.operations;
    link_.Deliver(std::move(done), link_.ownership().ConfirmReset(peer_));
  }

 private:
  DirectConnector& link_;
  crypto::PeerIdentity peer_;
};

}  // namespace

void DirectConnector::Open(const crypto::Credential& client,
                           const std::vector<crypto::Certificate>& anchors,
                           Callback<std::unique_ptr<pledge::RegistrarConnection>> done) {
  ++operations;
  const registrar::RegistrarIdentity& identity = service_.identity();
  if (!anchors.empty()) {
    auto trusted = crypto::VerifyChain(identity.registrar_cert, {identity.domain_ca}, anchors,
                                       {.at = clock_.Now(), .allow_partial = true});
    if (!trusted) {
      Deliver<std::unique_ptr<pledge::RegistrarConnection>>(std::move(done),
                                                            std::unexpected(trusted.error()));
      return;
    }
  }
  std::unique_ptr<pledge::RegistrarConnection> connection = std::make_unique<DirectConnection>(
      *this, crypto::PeerIdentity{client.certificate, client.chain, "192.0.2.7"});
  Deliver(std::move(done),
          Result<std::unique_ptr<pledge::RegistrarConnection>>(std::move(connection)));
}

}  // namespace concierge::testing
