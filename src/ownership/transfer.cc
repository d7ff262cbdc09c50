#include "ownership/transfer.h"

#include <algorithm>

namespace concierge::ownership {
namespace {

constexpr std::string_view kBundleFormat = "concierge-transfer-bundle";
constexpr std::string_view kMoveFormat = "concierge-move";
constexpr size_t kMaxBundleBytes = 64 << 20;
constexpr size_t kMaxBundleDevices = 100000;
constexpr size_t kMaxMakers = 1000;
// A chain is at most 4 MiB; in base64 it grows by a third.
constexpr size_t kMaxMoveBytes = 6 << 20;

std::unexpected<Error> Bad(const std::string& what) {
  return MakeError(ErrorCode::kBadFormat, what);
}

Result<const Json*> RequiredArray(const Json& object, const std::string& path, std::string_view key,
                                  size_t limit) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) {
    return Bad(path + "." + std::string(key) + ": expected an array");
  }
  if (it->size() > limit) {
    return Bad(path + "." + std::string(key) + ": more than " + std::to_string(limit) + " items");
  }
  return &*it;
}

Status RequireFormat(const JsonObjectReader& reader, const std::string& path,
                     std::string_view format) {
  ASSIGN_OR_RETURN(int64_t version, reader.RequiredInt(format));
  if (version != 1) {
    return Bad(path + "." + std::string(format) + ": version " + std::to_string(version) +
               " is not understood (this build reads version 1)");
  }
  return OkStatus();
}

Result<BundleMaker> ReadMaker(const Json& item, const std::string& path) {
  if (!item.is_object()) {
    return Bad(path + ": expected an object");
  }
  JsonObjectReader reader(item, path);
  RETURN_IF_ERROR(reader.RejectUnknown({"name", "ca"}));
  BundleMaker maker;
  ASSIGN_OR_RETURN(maker.name, reader.RequiredString("name"));
  ASSIGN_OR_RETURN(maker.ca_pem, reader.RequiredString("ca"));
  return maker;
}

Result<BundleDevice> ReadDevice(const Json& item, const std::string& path) {
  if (!item.is_object()) {
    return Bad(path + ": expected an object");
  }
  JsonObjectReader reader(item, path);
  RETURN_IF_ERROR(reader.RejectUnknown({"serial", "maker", "masa_url", "chain"}));
  BundleDevice device;
  ASSIGN_OR_RETURN(device.serial, reader.RequiredString("serial"));
  ASSIGN_OR_RETURN(device.maker, reader.RequiredString("maker"));
  ASSIGN_OR_RETURN(device.masa_url, reader.RequiredString("masa_url"));
  ASSIGN_OR_RETURN(device.chain, reader.RequiredBase64("chain"));
  if (device.serial.empty()) {
    return Bad(path + ".serial: empty");
  }
  return device;
}

}  // namespace

std::string EncodeBundle(const TransferBundle& bundle) {
  Json makers = Json::array();
  for (const BundleMaker& maker : bundle.makers) {
    makers.push_back({{"name", maker.name}, {"ca", maker.ca_pem}});
  }
  Json devices = Json::array();
  for (const BundleDevice& device : bundle.devices) {
    devices.push_back({{"serial", device.serial},
                       {"maker", device.maker},
                       {"masa_url", device.masa_url},
                       {"chain", Base64Encode(device.chain)}});
  }
  Json root{{kBundleFormat, 1},
            {"from", bundle.from},
            {"new_owner_key", Base64Encode(bundle.new_owner_key)},
            {"makers", makers},
            {"devices", devices}};
  return root.dump(1) + "\n";
}

Result<TransferBundle> DecodeBundle(std::string_view json) {
  if (json.size() > kMaxBundleBytes) {
    return Bad("transfer bundle: larger than 64 MiB");
  }
  ASSIGN_OR_RETURN(Json root, ParseJsonObject(json, "transfer bundle"));
  const std::string path = "bundle";
  JsonObjectReader reader(root, path);
  RETURN_IF_ERROR(
      reader.RejectUnknown({kBundleFormat, "from", "new_owner_key", "makers", "devices"}));
  RETURN_IF_ERROR(RequireFormat(reader, path, kBundleFormat));
  TransferBundle bundle;
  ASSIGN_OR_RETURN(bundle.from, reader.OptionalString("from"));
  ASSIGN_OR_RETURN(bundle.new_owner_key, reader.RequiredBase64("new_owner_key"));
  ASSIGN_OR_RETURN(const Json* makers, RequiredArray(root, path, "makers", kMaxMakers));
  for (size_t i = 0; i < makers->size(); ++i) {
    ASSIGN_OR_RETURN(BundleMaker maker,
                     ReadMaker((*makers)[i], path + ".makers[" + std::to_string(i) + "]"));
    bundle.makers.push_back(std::move(maker));
  }
  ASSIGN_OR_RETURN(const Json* devices, RequiredArray(root, path, "devices", kMaxBundleDevices));
  for (size_t i = 0; i < devices->size(); ++i) {
    std::string item_path = path + ".devices[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(BundleDevice device, ReadDevice((*devices)[i], item_path));
    bool known_maker = std::any_of(bundle.makers.begin(), bundle.makers.end(),
                                   [&](const BundleMaker& m) { return m.name == device.maker; });
    if (!known_maker) {
      return Bad(item_path + ".maker: " + device.maker + " is not among the bundle's makers");
    }
    bundle.devices.push_back(std::move(device));
  }
  return bundle;
}

std::string EncodeMoveInstruction(const MoveInstruction& instruction) {
  if (instruction.action == MoveInstruction::Action::kReset) {
    return Json{{kMoveFormat, 1}, {"action", "reset"}}.dump();
  }
  return Json{{kMoveFormat, 1},
              {"action", "move"},
              {"registrar", instruction.registrar_url},
              {"chain", Base64Encode(instruction.chain)}}
      .dump();
}

Result<MoveInstruction> DecodeMoveInstruction(std::string_view json) {
  if (json.size() > kMaxMoveBytes) {
    return Bad("move instruction: larger than 6 MiB");
  }
  ASSIGN_OR_RETURN(Json root, ParseJsonObject(json, "move instruction"));
  const std::string path = "move";
  JsonObjectReader reader(root, path);
  RETURN_IF_ERROR(reader.RejectUnknown({kMoveFormat, "action", "registrar", "chain"}));
  RETURN_IF_ERROR(RequireFormat(reader, path, kMoveFormat));
  MoveInstruction instruction;
  ASSIGN_OR_RETURN(std::string action, reader.RequiredString("action"));
  if (action == "reset") {
    if (reader.Has("registrar") || reader.Has("chain")) {
      return Bad("move: a reset names no registrar and no chain");
    }
    instruction.action = MoveInstruction::Action::kReset;
    return instruction;
  }
  if (action != "move") {
    return Bad("move.action: \"" + action + "\" is neither move nor reset");
  }
  ASSIGN_OR_RETURN(instruction.registrar_url, reader.RequiredString("registrar"));
  ASSIGN_OR_RETURN(instruction.chain, reader.RequiredBase64("chain"));
  return instruction;
}

}  // namespace concierge::ownership
