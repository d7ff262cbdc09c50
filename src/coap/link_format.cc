#include "coap/link_format.h"

namespace concierge::coap {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  bool Done() const { return at_ >= text_.size(); }

  bool Peek(char c) const { return !Done() && text_[at_] == c; }

  bool Take(char c) {
    if (!Peek(c)) {
      return false;
    }
    ++at_;
    return true;
  }

  Error Expected(std::string_view what) const {
    return Error(ErrorCode::kBadFormat, "link format: expected " + std::string(what) +
                                            " at offset " + std::to_string(at_));
  }

  // Until reads up to (not including) any of stops.
  std::string_view Until(std::string_view stops) {
    size_t end = text_.find_first_of(stops, at_);
    if (end == std::string_view::npos) {
      end = text_.size();
    }
    std::string_view part = text_.substr(at_, end - at_);
    at_ = end;
    return part;
  }

 private:
  std::string_view text_;
  size_t at_ = 0;
};

}  // namespace

std::optional<std::string> Link::Attribute(std::string_view name) const {
  for (const auto& [key, value] : attributes) {
    if (key == name) {
      return value;
    }
  }
  return std::nullopt;
}

Result<std::vector<Link>> ParseLinkFormat(std::string_view text) {
  if (text.size() > kMaxLinkFormatBytes) {
    return MakeError(ErrorCode::kBadFormat, "link format of " + std::to_string(text.size()) +
                                                " bytes is over the limit of " +
                                                std::to_string(kMaxLinkFormatBytes));
  }
  std::vector<Link> links;
  Reader reader(text);
  while (!reader.Done()) {
    if (links.size() == kMaxLinks) {
      return MakeError(ErrorCode::kBadFormat,
                       "link format with more than " + std::to_string(kMaxLinks) + " links");
    }
    Link link;
    if (!reader.Take('<')) {
      return std::unexpected(reader.Expected("'<'"));
    }
    link.target = std::string(reader.Until(">"));
    if (!reader.Take('>')) {
      return std::unexpected(reader.Expected("'>'"));
    }
    while (reader.Take(';')) {
      std::string name(reader.Until("=;,"));
      if (name.empty()) {
        return std::unexpected(reader.Expected("an attribute name"));
      }
      std::string value;
      if (reader.Take('=')) {
        if (reader.Take('"')) {
          value = std::string(reader.Until("\""));
          if (!reader.Take('"')) {
            return std::unexpected(reader.Expected("a closing '\"'"));
          }
        } else {
          value = std::string(reader.Until(";,"));
        }
      }
      link.attributes.emplace_back(std::move(name), std::move(value));
    }
    links.push_back(std::move(link));
    if (!reader.Done() && !reader.Take(',')) {
      return std::unexpected(reader.Expected("',' or the end"));
    }
  }
  return links;
}

}  // namespace concierge::coap
