#pragma once

#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/json.h"

namespace concierge::ownership {

// A transfer bundle is what an old owner hands a new one: for each device, its ownership chain
// extended to the new owner's key. The chains are the authority (each entry signed by the
// owner of record); the maker certificates are a convenience the new owner decides to trust.
struct BundleMaker {
  std::string name;
  std::string ca_pem;
};

struct BundleDevice {
  std::string serial;
  std::string maker;     // a BundleMaker name
  std::string masa_url;  // where the chain is recorded (the device's IDevID names it too)
  Bytes chain;           // OwnershipChain encoding
};

struct TransferBundle {
  std::string from;     // the old site's name, for the operator
  Bytes new_owner_key;  // SubjectPublicKeyInfo DER
  std::vector<BundleMaker> makers;
  std::vector<BundleDevice> devices;
};

std::string EncodeBundle(const TransferBundle& bundle);
// DecodeBundle checks structure and sizes; the chains are verified by whoever uses them.
Result<TransferBundle> DecodeBundle(std::string_view json);

// MoveInstruction is what a site tells a device that is leaving it: move (enroll with this
// registrar, whose owner the chain now ends at), or reset (forget this domain, back to the
// IDevID, after decommissioning).
struct MoveInstruction {
  enum class Action : uint8_t { kMove, kReset };
  Action action = Action::kMove;
  std::string registrar_url;  // kMove
  Bytes chain;                // kMove
};

std::string EncodeMoveInstruction(const MoveInstruction& instruction);
Result<MoveInstruction> DecodeMoveInstruction(std::string_view json);

}  // namespace concierge::ownership
