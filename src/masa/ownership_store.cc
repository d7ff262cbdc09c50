// The MASA's ownership records: chains, stolen reports, escrow statements and approvals.
#include "masa/maker_store.h"
#include "store/audit_log.h"

namespace concierge::masa {

Result<std::optional<OwnershipRecord>> MakerStore::FindOwnership(const std::string& serial) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto query, db_->Prepare("SELECT chain, stolen, last_statement_at,"
                                            " escrow_statement FROM ownership WHERE serial = ?"));
  query.BindAll(serial);
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return std::optional<OwnershipRecord>();
  }
  return OwnershipRecord{query.Blob(0), query.Int(1) != 0, query.Int(2),
                         query.IsNull(3) ? Bytes{} : query.Blob(3)};
}

Status MakerStore::SwapChain(const std::string& serial, const ChainSwap& swap) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  RETURN_IF_ERROR(SwapChainLocked(serial, swap));
  return tx.Commit();
}

Status MakerStore::SwapChainLocked(const std::string& serial, const ChainSwap& swap) {
  if (swap.expected.empty()) {
    ASSIGN_OR_RETURN(auto insert,
                     db_->Prepare("INSERT INTO ownership(serial, chain) VALUES (?, ?)"));
    if (auto inserted = insert.BindAll(serial, swap.chain).Run(); !inserted) {
      if (inserted.error().code() == ErrorCode::kAlreadyExists) {
        return MakeError(ErrorCode::kFailedPrecondition,
                         "the ownership chain of " + serial + " changed meanwhile; retry");
      }
      return inserted;
    }
  } else {
    // A new owner starts without the previous owner's escrow agents or their approvals.
    ASSIGN_OR_RETURN(auto update, db_->Prepare("UPDATE ownership SET chain = ?, escrow_statement ="
                                               " NULL WHERE serial = ? AND chain = ?"));
    RETURN_IF_ERROR(update.BindAll(swap.chain, serial, swap.expected).Run());
    if (db_->Changes() == 0) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "the ownership chain of " + serial + " changed meanwhile; retry");
    }
    ASSIGN_OR_RETURN(auto clear, db_->Prepare("DELETE FROM escrow_approvals WHERE serial = ?"));
    RETURN_IF_ERROR(clear.BindAll(serial).Run());
  }
  if (swap.release) {
    ASSIGN_OR_RETURN(auto unpin, db_->Prepare("UPDATE devices SET owner_domain = '', sold_to = ''"
                                              " WHERE serial = ?"));
    RETURN_IF_ERROR(unpin.BindAll(serial).Run());
  }
  return audit_.Append(swap.event, serial, swap.details);
}

Status MakerStore::RecordStatement(const std::string& serial, int64_t at,
                                   const StatementEffect& effect, std::string_view event,
                                   const Json& details) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto query,
                   db_->Prepare("SELECT last_statement_at FROM ownership WHERE serial = ?"));
  query.BindAll(serial);
  ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) {
    return MakeError(ErrorCode::kNotFound, "device " + serial + " has no owner of record");
  }
  if (at <= query.Int(0)) {
    return MakeError(ErrorCode::kSecurity,
                     "replayed statement: " + serial + " already has one dated " +
                         FormatRfc3339(FromUnixMillis(query.Int(0))) + " or later");
  }
  ASSIGN_OR_RETURN(auto update, db_->Prepare("UPDATE ownership SET last_statement_at = ?,"
                                             " stolen = COALESCE(?, stolen) WHERE serial = ?"));
  update.BindAll(at, int64_t{0}, serial);
  if (effect.stolen) {
    update.Bind(2, int64_t{*effect.stolen ? 1 : 0});
  } else {
    update.BindNull(2);
  }
  RETURN_IF_ERROR(update.Run());
  if (effect.escrow_statement) {
    ASSIGN_OR_RETURN(auto escrow,
                     db_->Prepare("UPDATE ownership SET escrow_statement = ? WHERE serial = ?"));
    RETURN_IF_ERROR(escrow.BindAll(*effect.escrow_statement, serial).Run());
    ASSIGN_OR_RETURN(auto clear, db_->Prepare("DELETE FROM escrow_approvals WHERE serial = ?"));
    RETURN_IF_ERROR(clear.BindAll(serial).Run());
  }
  RETURN_IF_ERROR(audit_.Append(event, serial, details));
  return tx.Commit();
}

Result<int64_t> MakerStore::AddEscrowApproval(const std::string& serial, ByteSpan agent,
                                              ByteSpan new_owner, int64_t at) {
  std::lock_guard lock(mutex_);
  ASSIGN_OR_RETURN(auto tx, store::Transaction::Begin(*db_));
  ASSIGN_OR_RETURN(auto upsert,
                   db_->Prepare("INSERT INTO escrow_approvals(serial, agent, new_owner, at)"
                                " VALUES (?, ?, ?, ?) ON CONFLICT(serial, agent) DO UPDATE SET"
                                " new_owner = excluded.new_owner, at = excluded.at"));
  RETURN_IF_ERROR(upsert.BindAll(serial, agent, new_owner, at).Run());
  RETURN_IF_ERROR(audit_.Append("ownership.escrow-approved", serial,
                                Json{{"agent", Base64Encode(agent).substr(0, 24)}}));
  ASSIGN_OR_RETURN(auto count, db_->Prepare("SELECT COUNT(*) FROM escrow_approvals WHERE serial ="
                                            " ? AND new_owner = ?"));
  count.BindAll(serial, new_owner);
  ASSIGN_OR_RETURN(bool row, count.Step());
  int64_t approvals = row ? count.Int(0) : 0;
  RETURN_IF_ERROR(tx.Commit());
  return approvals;
}

}  // namespace concierge::masa
