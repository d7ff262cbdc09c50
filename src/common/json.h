#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "common/bytes.h"

namespace concierge {

using Json = nlohmann::json;

// ParseJsonObject parses text that must be one JSON object; nlohmann's exceptions stop here.
Result<Json> ParseJsonObject(std::string_view text, std::string_view what);

// JsonObjectReader reads typed members from one object, recording a path for error messages
// ("voucher.nonce: expected a string").
class JsonObjectReader {
 public:
  JsonObjectReader(const Json& object, std::string path);

  Result<std::string> RequiredString(std::string_view key) const;
  Result<std::string> OptionalString(std::string_view key) const;  // "" when absent
  Result<Bytes> RequiredBase64(std::string_view key) const;
  Result<Bytes> OptionalBase64(std::string_view key) const;  // empty when absent
  Result<bool> OptionalBool(std::string_view key, bool fallback) const;
  Result<int64_t> RequiredInt(std::string_view key) const;
  bool Has(std::string_view key) const;

  // RejectUnknown fails if the object has a member not in allowed.
  Status RejectUnknown(std::initializer_list<std::string_view> allowed) const;

 private:
  const Json* Find(std::string_view key) const;
  std::unexpected<Error> Bad(std::string_view key, std::string_view what) const;

  const Json& object_;
  std::string path_;
};

}  // namespace concierge
