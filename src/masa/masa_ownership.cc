// The MASA's side of the ownership lifecycle: chains, transfers, stolen reports, escrow and
// release. Every decision is made against the chain on record; every change is an audit event.
#include "masa/masa_service.h"

namespace concierge::masa {

using ownership::Action;
using ownership::EntryKind;

Result<ownership::OwnershipChain> MasaService::LoadChain(
    const std::string& serial, const std::optional<OwnershipRecord>& record) {
  ownership::OwnershipChain::Authorities authorities{maker_key_};
  if (record) {
    ASSIGN_OR_RETURN_CTX(auto chain, ownership::OwnershipChain::Decode(record->chain, authorities),
                         "stored chain of " + serial);
    return chain;
  }
  ASSIGN_OR_RETURN(auto minted, store_.FindDevice(serial));
  if (!minted) {
    return MakeError(ErrorCode::kNotFound, "device " + serial + " was not minted by this MASA");
  }
  ownership::ChainHeader header{serial, identity_.maker_ca.SubjectText(), maker_key_,
                                crypto::Sha256(minted->idevid_der)};
  return ownership::OwnershipChain::Start(header);
}

Result<Bytes> MasaService::OwnershipChain(const std::string& serial) {
  ASSIGN_OR_RETURN(auto record, store_.FindOwnership(serial));
  ASSIGN_OR_RETURN(auto chain, LoadChain(serial, record));
  return chain.Encode();
}

Status MasaService::SubmitChain(ByteSpan bytes) {
  ownership::OwnershipChain::Authorities authorities{maker_key_};
  ASSIGN_OR_RETURN(auto submitted, ownership::OwnershipChain::Decode(bytes, authorities));
  const std::string& serial = submitted.header().device_id;
  ASSIGN_OR_RETURN(auto record, store_.FindOwnership(serial));
  if (!record) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "device " + serial + " has not been claimed; there is nothing to transfer");
  }
  ASSIGN_OR_RETURN(auto recorded, LoadChain(serial, record));
  if (!submitted.IsExtensionOf(recorded)) {
    return MakeError(ErrorCode::kSecurity,
                     "the submitted chain of " + serial +
                         " does not extend the one on record (a replayed or forked transfer)");
  }
  if (submitted.entries().size() == recorded.entries().size()) {
    return OkStatus();  // already recorded
  }
  for (size_t i = recorded.entries().size(); i < submitted.entries().size(); ++i) {
    const ownership::ChainEntry& entry = submitted.entries()[i];
    if (entry.kind != EntryKind::kTransfer) {
      return MakeError(ErrorCode::kPermissionDenied,
                       "only the MASA adds sale, escrow and release entries");
    }
    RETURN_IF_ERROR_CTX(
        ownership::CheckSubmissionDate(entry.issued_at, clock_.Now(), "entry " + std::to_string(i)),
        "the submitted chain of " + serial);
  }
  ASSIGN_OR_RETURN(Bytes encoded, submitted.Encode());
  return store_.SwapChain(serial,
                          ChainSwap{record->chain, std::move(encoded), "ownership.transferred",
                                    Json{{"entries", submitted.entries().size()}}});
}

Result<std::string> MasaService::SubmitStatement(ByteSpan bytes) {
  ASSIGN_OR_RETURN(ownership::SignedStatement signed_statement, ownership::DecodeStatement(bytes));
  const ownership::Statement& statement = signed_statement.statement;
  const std::string& serial = statement.device_id;
  RETURN_IF_ERROR(ownership::CheckSubmissionDate(statement.issued_at, clock_.Now(),
                                                 "the statement about " + serial));
  ASSIGN_OR_RETURN(auto record, store_.FindOwnership(serial));
  if (!record) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "device " + serial + " has no owner of record");
  }
  if (statement.action == Action::kApproveEscrow) {
    return ApproveEscrow(signed_statement, *record);
  }
  ASSIGN_OR_RETURN(auto chain, LoadChain(serial, record));
  if (chain.OwnedBy(maker_key_)) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "device " + serial + " has no owner of record");
  }
  RETURN_IF_ERROR_CTX(ownership::VerifyStatementBy(signed_statement, chain.owner_key()),
                      "only the owner of record may ask this");
  Json details{{"action", ActionName(statement.action)}};
  switch (statement.action) {
    case Action::kReportStolen:
      RETURN_IF_ERROR(store_.RecordStatement(serial, statement.issued_at,
                                             {.stolen = true, .escrow_statement = std::nullopt},
                                             "ownership.reported-stolen", details));
      return "reported stolen: no voucher is issued for " + serial + " until the report is cleared";
    case Action::kClearStolen:
      RETURN_IF_ERROR(store_.RecordStatement(serial, statement.issued_at,
                                             {.stolen = false, .escrow_statement = std::nullopt},
                                             "ownership.stolen-cleared", details));
      return "stolen report cleared for " + serial;
    case Action::kSetEscrow:
      details["agents"] = statement.agents.size();
      details["threshold"] = statement.threshold;
      RETURN_IF_ERROR(store_.RecordStatement(
          serial, statement.issued_at,
          {.stolen = std::nullopt, .escrow_statement = signed_statement.encoded},
          "ownership.escrow-set", details));
      return "escrow set for " + serial + ": " + std::to_string(statement.threshold) + " of " +
             std::to_string(statement.agents.size()) + " agents";
    case Action::kRelease: {
      RETURN_IF_ERROR(store_.RecordStatement(serial, statement.issued_at, {},
                                             "ownership.release-asked", details));
      ownership::OwnershipChain::Authorities authorities{maker_key_};
      RETURN_IF_ERROR(chain.Extend(identity_.signer_key, maker_key_, EntryKind::kRelease,
                                   clock_.Now(), authorities));
      ASSIGN_OR_RETURN(Bytes encoded, chain.Encode());
      RETURN_IF_ERROR(store_.SwapChain(
          serial, ChainSwap{record->chain, std::move(encoded), "ownership.released",
                            Json{{"entries", chain.entries().size()}}, /*release=*/true}));
      return "released " + serial + ": the next owner can claim it";
    }
    case Action::kApproveEscrow:
      break;
  }
  return MakeError(ErrorCode::kInvalidArgument, "unknown statement");
}

Result<std::string> MasaService::ApproveEscrow(const ownership::SignedStatement& approval,
                                               const OwnershipRecord& record) {
  const std::string& serial = approval.statement.device_id;
  if (record.escrow_statement.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "the owner of record of " + serial + " has registered no escrow");
  }
  ASSIGN_OR_RETURN(auto policy, ownership::DecodeStatement(record.escrow_statement));
  const Bytes* agent = nullptr;
  for (const Bytes& candidate : policy.statement.agents) {
    if (ownership::VerifyStatementBy(approval, candidate)) {
      agent = &candidate;
      break;
    }
  }
  if (agent == nullptr) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "the approval for " + serial + " is not signed by one of its escrow agents");
  }
  ASSIGN_OR_RETURN(int64_t approvals,
                   store_.AddEscrowApproval(serial, *agent, approval.statement.subject_key,
                                            approval.statement.issued_at));
  if (approvals < policy.statement.threshold) {
    return std::to_string(approvals) + " of " + std::to_string(policy.statement.threshold) +
           " escrow approvals for " + serial + "; nothing moves yet";
  }
  ASSIGN_OR_RETURN(auto chain, LoadChain(serial, record));
  ownership::OwnershipChain::Authorities authorities{maker_key_};
  RETURN_IF_ERROR(chain.Extend(identity_.signer_key, approval.statement.subject_key,
                               EntryKind::kEscrow, clock_.Now(), authorities));
  ASSIGN_OR_RETURN(Bytes encoded, chain.Encode());
  RETURN_IF_ERROR(store_.SwapChain(
      serial, ChainSwap{record.chain, std::move(encoded), "ownership.escrow-transferred",
                        Json{{"approvals", approvals}, {"entries", chain.entries().size()}}}));
  return "escrow threshold reached: " + serial + " now belongs to the approved owner";
}

}  // namespace concierge::masa
