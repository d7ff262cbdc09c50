#include "pledge/move.h"

#include "ownership/chain.h"

namespace concierge::pledge {
namespace {

using Connection = std::unique_ptr<RegistrarConnection>;

Result<Connection> OpenWith(const DomainCredentials& credentials, Connector& registrar,
                            Scheduler& scheduler) {
  return Await<Connection>(scheduler, [&](Callback<Connection> done) {
    registrar.Open(crypto::Credential{credentials.ldevid, credentials.key, {}}, credentials.anchors,
                   std::move(done));
  });
}

Result<std::optional<ownership::MoveInstruction>> AskInstructions(RegistrarConnection& connection,
                                                                  Scheduler& scheduler) {
  return Await<std::optional<ownership::MoveInstruction>>(
      scheduler, [&](Callback<std::optional<ownership::MoveInstruction>> done) {
        connection.FetchInstruction(std::move(done));
      });
}

// CheckChain accepts a chain only if it is this device's: same serial, same IDevID.
Result<ownership::OwnershipChain> CheckChain(const PledgeIdentity& identity, ByteSpan bytes) {
  ASSIGN_OR_RETURN_CTX(
      auto chain, ownership::OwnershipChain::Decode(bytes, {.masa_key = {}, .masa_is_maker = true}),
      "move instruction");
  std::string serial = identity.idevid.SubjectSerialNumber();
  if (chain.header().device_id != serial ||
      chain.header().idevid_hash != crypto::Sha256(identity.idevid.Der())) {
    return MakeError(ErrorCode::kSecurity, "the ownership chain in the move instruction is for " +
                                               chain.header().device_id + ", not this device (" +
                                               serial + ")");
  }
  return chain;
}

}  // namespace

Result<std::optional<ownership::MoveInstruction>> CheckIn(const DomainCredentials& current,
                                                          Connector& registrar,
                                                          Scheduler& scheduler) {
  ASSIGN_OR_RETURN_CTX(auto connection, OpenWith(current, registrar, scheduler), "registrar");
  return AskInstructions(*connection, scheduler);
}

Result<DomainCredentials> MoveToNewOwner(const PledgeIdentity& identity,
                                         const ownership::MoveInstruction& instruction,
                                         Connector& new_registrar, const Clock& clock,
                                         Scheduler& scheduler, Random& random,
                                         PledgeOptions options) {
  if (instruction.action != ownership::MoveInstruction::Action::kMove) {
    return MakeError(ErrorCode::kInvalidArgument, "the instruction is not a move");
  }
  ASSIGN_OR_RETURN(auto chain, CheckChain(identity, instruction.chain));
  Bytes new_owner = chain.owner_key();
  options.accept_domain = [&new_owner](const crypto::Certificate& pinned) -> Status {
    ASSIGN_OR_RETURN(Bytes pinned_key, pinned.PublicKeyDer());
    if (pinned_key != new_owner) {
      return MakeError(ErrorCode::kSecurity,
                       "the voucher pins a domain that is not the owner the ownership chain names");
    }
    return OkStatus();
  };
  Pledge pledge(identity, new_registrar, clock, scheduler, random, std::move(options));
  ASSIGN_OR_RETURN_CTX(EnrollResult enrolled, pledge.EnrollAndWait(),
                       "enrolling with the new owner");
  DomainCredentials fresh{enrolled.ldevid, enrolled.ldevid_key, enrolled.domain_anchors,
                          instruction.registrar_url, enrolled.voucher_cms};
  // Proof that the new credentials work: an authenticated request the new registrar answers.
  ASSIGN_OR_RETURN_CTX(auto connection, OpenWith(fresh, new_registrar, scheduler),
                       "new LDevID refused by the new registrar");
  if (auto answered = AskInstructions(*connection, scheduler); !answered) {
    return std::unexpected(answered.error().WithContext("new LDevID refused by the new registrar"));
  }
  return fresh;
}

Status ConfirmMove(const DomainCredentials& old, const crypto::Certificate& new_ldevid,
                   Connector& old_registrar, Scheduler& scheduler) {
  ASSIGN_OR_RETURN_CTX(auto connection, OpenWith(old, old_registrar, scheduler), "old registrar");
  RETURN_IF_ERROR_CTX(Await<void>(scheduler,
                                  [&](Callback<void> done) {
                                    connection->ConfirmMove(new_ldevid, std::move(done));
                                  }),
                      "old registrar");
  return OkStatus();
}

Status ConfirmReset(const DomainCredentials& current, Connector& registrar, Scheduler& scheduler) {
  ASSIGN_OR_RETURN_CTX(auto connection, OpenWith(current, registrar, scheduler), "registrar");
  return Await<void>(scheduler,
                     [&](Callback<void> done) { connection->ConfirmReset(std::move(done)); });
}

}  // namespace concierge::pledge
