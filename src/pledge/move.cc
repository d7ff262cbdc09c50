#include "pledge/move.h"

#include "ownership/chain.h"

namespace concierge::pledge {
namespace {

constexpr std::string_view kInstructions = "/.well-known/concierge/instructions";
constexpr std::string_view kMoved = "/.well-known/concierge/moved";
constexpr std::string_view kReset = "/.well-known/concierge/reset";

Result<std::unique_ptr<RegistrarConnection>> OpenWith(const DomainCredentials& credentials,
                                                      Connector& registrar) {
  return registrar.Open(http::TlsIdentity{credentials.ldevid, credentials.key, {}},
                        credentials.anchors);
}

Result<std::optional<ownership::MoveInstruction>> AskInstructions(RegistrarConnection& connection) {
  ASSIGN_OR_RETURN(auto response, connection.Get(kInstructions, "application/json"));
  if (response.status == 204) {
    return std::optional<ownership::MoveInstruction>();
  }
  if (response.status != 200) {
    return std::unexpected(http::ErrorFromPeerStatus("registrar", response));
  }
  ASSIGN_OR_RETURN(auto instruction, ownership::DecodeMoveInstruction(response.body));
  return std::optional(std::move(instruction));
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
                                                          Connector& registrar) {
  ASSIGN_OR_RETURN_CTX(auto connection, OpenWith(current, registrar), "registrar");
  return AskInstructions(*connection);
}

Result<DomainCredentials> MoveToNewOwner(const PledgeIdentity& identity,
                                         const ownership::MoveInstruction& instruction,
                                         Connector& new_registrar, const Clock& clock,
                                         Random& random, PledgeOptions options) {
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
  Pledge pledge(identity, new_registrar, clock, random, std::move(options));
  ASSIGN_OR_RETURN_CTX(EnrollResult enrolled, pledge.Enroll(), "enrolling with the new owner");
  DomainCredentials fresh{enrolled.ldevid, enrolled.ldevid_key, enrolled.domain_anchors,
                          instruction.registrar_url, enrolled.voucher_cms};
  // Proof that the new credentials work: an authenticated request the new registrar answers.
  ASSIGN_OR_RETURN_CTX(auto connection, OpenWith(fresh, new_registrar),
                       "new LDevID refused by the new registrar");
  if (auto answered = AskInstructions(*connection); !answered) {
    return std::unexpected(answered.error().WithContext("new LDevID refused by the new registrar"));
  }
  return fresh;
}

Status ConfirmMove(const DomainCredentials& old, const crypto::Certificate& new_ldevid,
                   Connector& old_registrar) {
  ASSIGN_OR_RETURN_CTX(auto connection, OpenWith(old, old_registrar), "old registrar");
  ASSIGN_OR_RETURN(auto response, connection->Post(kMoved, "application/pkix-cert",
                                                   ToString(new_ldevid.Der()), ""));
  if (response.status != 200) {
    return std::unexpected(http::ErrorFromPeerStatus("old registrar", response));
  }
  return OkStatus();
}

Status ConfirmReset(const DomainCredentials& current, Connector& registrar) {
  ASSIGN_OR_RETURN_CTX(auto connection, OpenWith(current, registrar), "registrar");
  ASSIGN_OR_RETURN(auto response, connection->Post(kReset, "application/json", "{}", ""));
  if (response.status != 200) {
    return std::unexpected(http::ErrorFromPeerStatus("registrar", response));
  }
  return OkStatus();
}

}  // namespace concierge::pledge
