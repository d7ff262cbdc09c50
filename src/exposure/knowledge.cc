#include "exposure/knowledge.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/json.h"

namespace concierge::exposure {
namespace {

constexpr size_t kMaxDocument = size_t{8} << 20;

std::unexpected<Error> Bad(const std::string& path, std::string_view what) {
  return MakeError(ErrorCode::kBadFormat, path + ": " + std::string(what));
}

Result<std::string> Text(const Json& object, const char* key, const std::string& path,
                         bool required) {
  auto found = object.find(key);
  if (found == object.end()) {
    if (required) {
      return Bad(path + "." + key, "missing");
    }
    return std::string();
  }
  if (!found->is_string()) {
    return Bad(path + "." + key, "expected a string");
  }
  return found->get<std::string>();
}

Result<std::vector<std::string>> Texts(const Json& object, const char* key,
                                       const std::string& path) {
  std::vector<std::string> out;
  auto found = object.find(key);
  if (found == object.end()) {
    return out;
  }
  if (!found->is_array()) {
    return Bad(path + "." + key, "expected an array of strings");
  }
  for (size_t i = 0; i < found->size(); ++i) {
    if (!(*found)[i].is_string()) {
      return Bad(path + "." + key + "[" + std::to_string(i) + "]", "expected a string");
    }
    out.push_back((*found)[i].get<std::string>());
  }
  return out;
}

Result<Threat> ParseThreat(const Json& entry, const std::string& path) {
  if (!entry.is_object()) {
    return Bad(path, "expected an object");
  }
  RETURN_IF_ERROR(JsonObjectReader(entry, path)
                      .RejectUnknown({"name", "kind", "protocol", "ports", "weakness", "peers",
                                      "weight", "explanation"}));
  Threat threat;
  ASSIGN_OR_RETURN(threat.name, Text(entry, "name", path, true));
  ASSIGN_OR_RETURN(std::string kind, Text(entry, "kind", path, true));
  if (kind == "exploit") {
    threat.kind = Threat::Kind::kExploit;
  } else if (kind == "operation") {
    threat.kind = Threat::Kind::kOperation;
  } else {
    return Bad(path + ".kind", "expected exploit or operation, got \"" + kind.substr(0, 20) + "\"");
  }
  ASSIGN_OR_RETURN(std::string protocol, Text(entry, "protocol", path, true));
  if (protocol == "tcp") {
    threat.protocol = 6;
  } else if (protocol == "udp") {
    threat.protocol = 17;
  } else {
    return Bad(path + ".protocol", "expected tcp or udp");
  }
  auto ports = entry.find("ports");
  if (ports == entry.end() || !ports->is_array() || ports->empty()) {
    return Bad(path + ".ports", "expected a non-empty array of ports");
  }
  for (size_t i = 0; i < ports->size(); ++i) {
    const Json& port = (*ports)[i];
    if (!port.is_number_integer() || port.get<int64_t>() < 1 || port.get<int64_t>() > 65535) {
      return Bad(path + ".ports[" + std::to_string(i) + "]", "expected 1..65535");
    }
    threat.ports.push_back(static_cast<uint16_t>(port.get<int64_t>()));
  }
  ASSIGN_OR_RETURN(threat.weakness, Text(entry, "weakness", path, false));
  if (threat.kind == Threat::Kind::kExploit && threat.weakness.empty()) {
    return Bad(path + ".weakness", "an exploit names the weakness it needs");
  }
  ASSIGN_OR_RETURN(threat.peers, Texts(entry, "peers", path));
  if (auto weight = entry.find("weight"); weight != entry.end()) {
    if (!weight->is_number_integer() || weight->get<int64_t>() < 1 ||
        weight->get<int64_t>() > 100) {
      return Bad(path + ".weight", "expected 1..100");
    }
    threat.weight = static_cast<int>(weight->get<int64_t>());
  }
  ASSIGN_OR_RETURN(threat.explanation, Text(entry, "explanation", path, false));
  return threat;
}

Result<Advisory::Affected> ParseAffected(const Json& entry, const std::string& path) {
  if (!entry.is_object()) {
    return Bad(path, "expected an object");
  }
  Advisory::Affected affected;
  auto package = entry.find("package");
  if (package == entry.end() || !package->is_object()) {
    return Bad(path + ".package", "expected an object");
  }
  ASSIGN_OR_RETURN(affected.package, Text(*package, "name", path + ".package", true));
  ASSIGN_OR_RETURN(affected.versions, Texts(entry, "versions", path));
  auto ranges = entry.find("ranges");
  if (ranges == entry.end()) {
    return affected;
  }
  if (!ranges->is_array()) {
    return Bad(path + ".ranges", "expected an array");
  }
  for (size_t r = 0; r < ranges->size(); ++r) {
    std::string range_path = path + ".ranges[" + std::to_string(r) + "]";
    const Json& range = (*ranges)[r];
    if (!range.is_object()) {
      return Bad(range_path, "expected an object");
    }
    ASSIGN_OR_RETURN(std::string type, Text(range, "type", range_path, true));
    if (type == "GIT") {
      continue;  // commit ranges say nothing about a device's version string
    }
    if (type != "ECOSYSTEM" && type != "SEMVER") {
      return Bad(range_path + ".type", "expected ECOSYSTEM, SEMVER or GIT");
    }
    auto events = range.find("events");
    if (events == range.end() || !events->is_array()) {
      return Bad(range_path + ".events", "expected an array");
    }
    // Events come in order: each "introduced" opens an interval the next "fixed" or
    // "last_affected" closes.
    Advisory::Affected::Range open;
    bool is_open = false;
    for (size_t e = 0; e < events->size(); ++e) {
      std::string event_path = range_path + ".events[" + std::to_string(e) + "]";
      const Json& event = (*events)[e];
      if (!event.is_object() || event.size() != 1 || !event.begin()->is_string()) {
        return Bad(event_path, "expected one of {introduced|fixed|last_affected: VERSION}");
      }
      std::string key = event.begin().key();
      std::string value = event.begin()->get<std::string>();
      if (key == "introduced") {
        if (is_open) {
          affected.ranges.push_back(open);
        }
        open = {value, "", ""};
        is_open = true;
      } else if ((key == "fixed" || key == "last_affected") && is_open) {
        (key == "fixed" ? open.fixed : open.last_affected) = value;
        affected.ranges.push_back(open);
        is_open = false;
      } else if (key != "limit") {
        return Bad(event_path, "\"" + key.substr(0, 20) + "\" without an open interval");
      }
    }
    if (is_open) {
      affected.ranges.push_back(open);
    }
  }
  return affected;
}

// WeightOfCvss turns a CVSS base score (as OSV gives it, either a number or a vector whose
// score is not stated) into 1..10; a vector alone gives the default.
int WeightOfScore(const Json& severity) {
  if (!severity.is_array()) {
    return 5;
  }
  for (const Json& entry : severity) {
    if (entry.is_object() && entry.contains("score") && entry["score"].is_string()) {
      const std::string& score = entry["score"].get_ref<const std::string&>();
      double value = 0;
      auto [end, ec] = std::from_chars(score.data(), score.data() + score.size(), value);
      if (ec == std::errc() && end == score.data() + score.size() && value >= 0 && value <= 10) {
        return std::max(1, static_cast<int>(std::lround(value)));
      }
    }
  }
  return 5;
}

Result<Advisory> ParseAdvisoryObject(const Json& root, const std::string& path) {
  if (!root.is_object()) {
    return Bad(path, "expected an OSV object");
  }
  Advisory advisory;
  ASSIGN_OR_RETURN(advisory.id, Text(root, "id", path, true));
  ASSIGN_OR_RETURN(advisory.summary, Text(root, "summary", path, false));
  auto affected = root.find("affected");
  if (affected == root.end() || !affected->is_array()) {
    return Bad(path + ".affected", "expected an array");
  }
  for (size_t i = 0; i < affected->size(); ++i) {
    ASSIGN_OR_RETURN(auto entry,
                     ParseAffected((*affected)[i], path + ".affected[" + std::to_string(i) + "]"));
    advisory.affected.push_back(std::move(entry));
  }
  if (auto severity = root.find("severity"); severity != root.end()) {
    advisory.weight = WeightOfScore(*severity);
  }
  return advisory;
}

Result<Json> ParseDocument(std::string_view json, std::string_view what) {
  if (json.size() > kMaxDocument) {
    return MakeError(ErrorCode::kTooLarge,
                     std::string(what) + " over " + std::to_string(kMaxDocument) + " bytes");
  }
  Json root = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return MakeError(ErrorCode::kBadFormat, std::string(what) + ": not valid JSON");
  }
  return root;
}

bool SameText(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace

int CompareVersions(std::string_view a, std::string_view b) {
  while (!a.empty() || !b.empty()) {
    auto next = [](std::string_view& text) {
      size_t dot = text.find_first_of(".-+");
      std::string_view part = text.substr(0, dot);
      text = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
      return part;
    };
    std::string_view x = next(a);
    std::string_view y = next(b);
    uint64_t nx = 0;
    uint64_t ny = 0;
    bool x_number = std::from_chars(x.data(), x.data() + x.size(), nx).ptr == x.data() + x.size();
    bool y_number = std::from_chars(y.data(), y.data() + y.size(), ny).ptr == y.data() + y.size();
    if (x.empty()) {
      nx = 0;
      x_number = true;
    }
    if (y.empty()) {
      ny = 0;
      y_number = true;
    }
    if (x_number && y_number) {
      if (nx != ny) {
        return nx < ny ? -1 : 1;
      }
    } else if (int c = x.compare(y); c != 0) {
      return c < 0 ? -1 : 1;
    }
  }
  return 0;
}

bool Advisory::Affects(std::string_view package, std::string_view version) const {
  for (const Affected& entry : affected) {
    if (!SameText(entry.package, package)) {
      continue;
    }
    if (std::ranges::find(entry.versions, version) != entry.versions.end()) {
      return true;
    }
    for (const Affected::Range& range : entry.ranges) {
      bool after_start = range.introduced == "0" || CompareVersions(version, range.introduced) >= 0;
      bool before_end = range.fixed.empty() ? (range.last_affected.empty() ||
                                               CompareVersions(version, range.last_affected) <= 0)
                                            : CompareVersions(version, range.fixed) < 0;
      if (after_start && before_end) {
        return true;
      }
    }
  }
  return false;
}

Result<ThreatCatalogue> ParseThreatCatalogue(std::string_view json) {
  ASSIGN_OR_RETURN(Json root, ParseDocument(json, "threat catalogue"));
  if (!root.is_object()) {
    return Bad("threat catalogue", "expected an object");
  }
  RETURN_IF_ERROR(
      JsonObjectReader(root, "threat catalogue").RejectUnknown({"threats", "description"}));
  auto threats = root.find("threats");
  if (threats == root.end() || !threats->is_array()) {
    return Bad("threats", "expected an array");
  }
  ThreatCatalogue catalogue;
  for (size_t i = 0; i < threats->size(); ++i) {
    ASSIGN_OR_RETURN(auto threat, ParseThreat((*threats)[i], "threats[" + std::to_string(i) + "]"));
    catalogue.threats.push_back(std::move(threat));
  }
  return catalogue;
}

Result<Advisory> ParseOsvAdvisory(std::string_view json) {
  ASSIGN_OR_RETURN(Json root, ParseDocument(json, "OSV advisory"));
  return ParseAdvisoryObject(root, "advisory");
}

Result<std::vector<Advisory>> ParseOsvAdvisories(std::string_view json) {
  ASSIGN_OR_RETURN(Json root, ParseDocument(json, "OSV advisories"));
  std::vector<Advisory> advisories;
  if (root.is_object()) {
    ASSIGN_OR_RETURN(auto one, ParseAdvisoryObject(root, "advisory"));
    advisories.push_back(std::move(one));
    return advisories;
  }
  if (!root.is_array()) {
    return Bad("advisories", "expected an OSV object or an array of them");
  }
  for (size_t i = 0; i < root.size(); ++i) {
    ASSIGN_OR_RETURN(auto advisory,
                     ParseAdvisoryObject(root[i], "advisories[" + std::to_string(i) + "]"));
    advisories.push_back(std::move(advisory));
  }
  return advisories;
}

}  // namespace concierge::exposure
