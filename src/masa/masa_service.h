#pragma once

#include <chrono>
#include <optional>

#include "common/clock.h"
#include "common/json.h"
#include "crypto/certificate.h"
#include "crypto/identity.h"
#include "crypto/key.h"
#include "masa/maker_store.h"
#include "ownership/chain.h"
#include "ownership/dates.h"
#include "ownership/statement.h"
#include "voucher/voucher.h"

namespace concierge::masa {

// MasaIdentity is what the MASA signs with and what it trusts IDevIDs by.
struct MasaIdentity {
  crypto::Certificate maker_ca;
  crypto::Certificate signer;
  crypto::PrivateKey signer_key;
};

struct MasaPolicy {
  // expires-on of every voucher, when set (RFC 8366 makes it optional for a nonced voucher).
  std::optional<std::chrono::seconds> voucher_lifetime;
};

// MasaService decides and signs vouchers (RFC 8995 §5.5). It verifies the registrar
// voucher-request and the pledge request inside it, applies the ownership policy kept in
// MakerStore, and logs every voucher. No I/O besides the store; thread-safe.
class MasaService {
 public:
  using SignedRequest = voucher::Signed<voucher::VoucherRequest>;

  MasaService(MakerStore& store, const Clock& clock, MasaIdentity identity, MasaPolicy policy = {});

  // RequestVoucher returns a CMS-signed voucher for a valid registrar voucher-request (opened
  // by the transport's codec), or an error naming the first check that failed. The registrar's
  // transport certificate, when it presented one, must be the request's signer.
  Result<Bytes> RequestVoucher(const SignedRequest& rvr, const crypto::PeerIdentity& registrar);

  // RequestAuditLog answers /requestauditlog for the device's current owner (RFC 8995 §5.8.1).
  Result<Json> RequestAuditLog(const SignedRequest& rvr);

  // Ownership (masa_ownership.cc). A voucher goes only to the domain whose CA key the device's
  // ownership chain ends at; an unclaimed or released device is sold (a chain entry signed by
  // the maker) to its first claimant.
  //
  // OwnershipChain returns the device's chain as recorded (a chain is not secret).
  Result<Bytes> OwnershipChain(const std::string& serial);
  // SubmitChain records an owner's longer copy of the chain (a transfer it signed). A copy that
  // is not an extension of the record (a replay, a fork) is refused.
  Status SubmitChain(ByteSpan chain);
  // SubmitStatement carries out a signed statement (ownership/statement.h) and says what it did.
  Result<std::string> SubmitStatement(ByteSpan statement);

  // The key the MASA signs sales, escrow hand-overs and releases with.
  const Bytes& maker_key() const { return maker_key_; }

 private:
  struct CheckedRequest {
    std::string serial;
    Bytes nonce;
    crypto::Certificate domain_ca;
    std::string domain_id;
  };

  // CheckRequest verifies the request and the pledge's inside it; peer is null when no
  // transport identity is required.
  Result<CheckedRequest> CheckRequest(const SignedRequest& rvr, const crypto::PeerIdentity* peer);

  Result<ownership::OwnershipChain> LoadChain(const std::string& serial,
                                              const std::optional<OwnershipRecord>& record);
  Result<std::string> ApproveEscrow(const ownership::SignedStatement& approval,
                                    const OwnershipRecord& record);

  MakerStore& store_;
  const Clock& clock_;
  MasaIdentity identity_;
  MasaPolicy policy_;
  Bytes maker_key_;
};

}  // namespace concierge::masa
