#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "crypto/key.h"

namespace concierge::ownership {

// What an owner or an escrow agent asks the MASA to do about one device.
enum class Action : uint8_t {
  kReportStolen = 0,   // owner of record: issue no voucher to anyone
  kClearStolen = 1,    // owner of record: the device is back
  kSetEscrow = 2,      // owner of record: these agents, this threshold
  kApproveEscrow = 3,  // an escrow agent: hand the device to subject_key
  kRelease = 4,        // owner of record, decommissioning: return the device to its maker
};
std::string_view ActionName(Action action);

// Statement is a COSE_Sign1-signed request about a device. issued_at orders statements: the MASA
// refuses one not newer than the last it accepted for the device (a replay).
struct Statement {
  Action action = Action::kReportStolen;
  std::string device_id;
  int64_t issued_at = 0;      // Unix milliseconds
  Bytes subject_key;          // kApproveEscrow: the new owner's key (SPKI DER)
  std::vector<Bytes> agents;  // kSetEscrow: the agents' keys (SPKI DER)
  int64_t threshold = 0;      // kSetEscrow: approvals needed
};

Result<Bytes> SignStatement(const crypto::PrivateKey& key, const Statement& statement);

// SignedStatement is a statement and who signed it (not yet checked against anyone).
struct SignedStatement {
  Statement statement;
  Bytes encoded;
};

// DecodeStatement checks the structure; VerifyStatementBy checks the signature with `key`.
Result<SignedStatement> DecodeStatement(ByteSpan bytes);
Status VerifyStatementBy(const SignedStatement& statement, ByteSpan key);

}  // namespace concierge::ownership
