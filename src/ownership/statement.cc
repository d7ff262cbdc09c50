#include "ownership/statement.h"

#include "cose/cbor.h"
#include "cose/sign1.h"
#include "ownership/dates.h"

namespace concierge::ownership {
namespace {

constexpr size_t kMaxAgents = 32;

std::unexpected<Error> Invalid(std::string_view message) {
  return MakeError(ErrorCode::kInvalidArgument, "ownership statement: " + std::string(message));
}

}  // namespace

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kReportStolen:
      return "report-stolen";
    case Action::kClearStolen:
      return "clear-stolen";
    case Action::kSetEscrow:
      return "set-escrow";
    case Action::kApproveEscrow:
      return "approve-escrow";
    case Action::kRelease:
      return "release";
  }
  return "unknown";
}

Result<Bytes> SignStatement(const crypto::PrivateKey& key, const Statement& statement) {
  cose::CborPtr agents(cbor_new_definite_array(statement.agents.size()));
  for (const Bytes& agent : statement.agents) {
    cose::CborPtr item = cose::BuildBytes(agent);
    (void)cbor_array_push(agents.get(), item.get());
  }
  cose::CborPtr payload =
      cose::BuildArray({cose::BuildInt(static_cast<int64_t>(statement.action)).release(),
                        cose::BuildText(statement.device_id).release(),
                        cose::BuildInt(statement.issued_at).release(),
                        cose::BuildBytes(statement.subject_key).release(), agents.release(),
                        cose::BuildInt(statement.threshold).release()});
  ASSIGN_OR_RETURN(Bytes bytes, cose::EncodeCbor(payload.get()));
  return cose::SignSign1(key.get(), bytes);
}

Result<SignedStatement> DecodeStatement(ByteSpan bytes) {
  ASSIGN_OR_RETURN_CTX(cose::Sign1 message, cose::DecodeSign1(bytes, cose::TagRule::kRequired),
                       "ownership statement");
  if (!message.payload) {
    return Invalid("no payload");
  }
  ASSIGN_OR_RETURN(cose::CborPtr payload, cose::DecodeCbor(*message.payload, "statement"));
  ASSIGN_OR_RETURN(auto items, cose::ReadArray(payload.get(), "statement", 6));
  SignedStatement out;
  Statement& statement = out.statement;
  ASSIGN_OR_RETURN(int64_t action, cose::ReadInt(items[0], "statement action"));
  if (action < 0 || action > static_cast<int64_t>(Action::kRelease)) {
    return Invalid("unknown action " + std::to_string(action));
  }
  statement.action = static_cast<Action>(action);
  ASSIGN_OR_RETURN(statement.device_id, cose::ReadText(items[1], "statement device"));
  ASSIGN_OR_RETURN(statement.issued_at, cose::ReadInt(items[2], "statement time"));
  RETURN_IF_ERROR(CheckDecodedDate(statement.issued_at, "statement time"));
  ASSIGN_OR_RETURN(statement.subject_key, cose::ReadBytes(items[3], "statement subject key"));
  ASSIGN_OR_RETURN(auto agents, cose::ReadArray(items[4], "statement agents"));
  if (agents.size() > kMaxAgents) {
    return Invalid("more than 32 escrow agents");
  }
  for (const cbor_item_t* agent : agents) {
    ASSIGN_OR_RETURN(Bytes key, cose::ReadBytes(agent, "statement agent key"));
    statement.agents.push_back(std::move(key));
  }
  ASSIGN_OR_RETURN(statement.threshold, cose::ReadInt(items[5], "statement threshold"));
  if (statement.action == Action::kSetEscrow &&
      (statement.threshold < 1 || statement.threshold > static_cast<int64_t>(agents.size()))) {
    return Invalid("escrow threshold must be 1.." + std::to_string(agents.size()));
  }
  if (statement.action == Action::kApproveEscrow && statement.subject_key.empty()) {
    return Invalid("an escrow approval must name the new owner's key");
  }
  out.encoded.assign(bytes.begin(), bytes.end());
  return out;
}

Status VerifyStatementBy(const SignedStatement& statement, ByteSpan key) {
  ASSIGN_OR_RETURN(auto parsed, crypto::PublicKeyFromDer(key));
  ASSIGN_OR_RETURN(cose::Sign1 message, cose::DecodeSign1(statement.encoded));
  if (auto verified = cose::VerifySign1(message, parsed.get()); !verified) {
    return MakeError(ErrorCode::kPermissionDenied,
                     std::string(ActionName(statement.statement.action)) + " for " +
                         statement.statement.device_id + " is not signed by the expected key");
  }
  return OkStatus();
}

}  // namespace concierge::ownership
