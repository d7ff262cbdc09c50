#include "common/json.h"

#include <algorithm>

namespace concierge {

Result<Json> ParseJsonObject(std::string_view text, std::string_view what) {
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return MakeError(ErrorCode::kBadFormat, std::string(what) + ": not valid JSON");
  }
  if (!parsed.is_object()) {
    return MakeError(ErrorCode::kBadFormat, std::string(what) + ": expected a JSON object");
  }
  return parsed;
}

JsonObjectReader::JsonObjectReader(const Json& object, std::string path)
    : object_(object), path_(std::move(path)) {}

const Json* JsonObjectReader::Find(std::string_view key) const {
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

std::unexpected<Error> JsonObjectReader::Bad(std::string_view key, std::string_view what) const {
  return MakeError(ErrorCode::kBadFormat,
                   path_ + "." + std::string(key) + ": " + std::string(what));
}

bool JsonObjectReader::Has(std::string_view key) const {
  return Find(key) != nullptr;
}

Result<std::string> JsonObjectReader::RequiredString(std::string_view key) const {
  const Json* value = Find(key);
  if (value == nullptr) {
    return Bad(key, "missing");
  }
  if (!value->is_string()) {
    return Bad(key, "expected a string");
  }
  return value->get<std::string>();
}

Result<std::string> JsonObjectReader::OptionalString(std::string_view key) const {
  if (!Has(key)) {
    return std::string();
  }
  return RequiredString(key);
}

Result<Bytes> JsonObjectReader::RequiredBase64(std::string_view key) const {
  ASSIGN_OR_RETURN(std::string text, RequiredString(key));
  auto decoded = Base64Decode(text);
  if (!decoded) {
    return Bad(key, decoded.error().message());
  }
  return std::move(*decoded);
}

Result<Bytes> JsonObjectReader::OptionalBase64(std::string_view key) const {
  if (!Has(key)) {
    return Bytes();
  }
  return RequiredBase64(key);
}

Result<bool> JsonObjectReader::OptionalBool(std::string_view key, bool fallback) const {
  const Json* value = Find(key);
  if (value == nullptr) {
    return fallback;
  }
  if (!value->is_boolean()) {
    return Bad(key, "expected true or false");
  }
  return value->get<bool>();
}

Result<int64_t> JsonObjectReader::RequiredInt(std::string_view key) const {
  const Json* value = Find(key);
  if (value == nullptr) {
    return Bad(key, "missing");
  }
  if (!value->is_number_integer()) {
    return Bad(key, "expected an integer");
  }
  return value->get<int64_t>();
}

Status JsonObjectReader::RejectUnknown(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [key, value] : object_.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Bad(key, "unknown member");
    }
  }
  return OkStatus();
}

}  // namespace concierge
