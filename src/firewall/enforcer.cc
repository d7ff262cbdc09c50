#include "firewall/enforcer.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "common/bytes.h"
#include "crypto/key.h"

namespace concierge::firewall {
namespace {

// Lines keyed by the block they sit in, so that a moved element reads as changed in place.
std::map<std::string, std::multiset<std::string>> LinesByBlock(const std::string& ruleset) {
  std::map<std::string, std::multiset<std::string>> blocks;
  std::istringstream in(ruleset);
  std::string block = "table";
  for (std::string line; std::getline(in, line);) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) {
      continue;
    }
    std::string text = line.substr(start);
    // Multi-line element lists continue with the next element; trim the list punctuation so
    // each element compares alone.
    if (text.starts_with("elements = { ")) {
      text = text.substr(13);
    }
    while (!text.empty() && (text.back() == ',' || text.back() == '}' || text.back() == ' ')) {
      if (text.back() == '}' && text.find('{') != std::string::npos) {
        break;
      }
      text.pop_back();
    }
    if (text.empty() || text.starts_with("#")) {
      continue;
    }
    if (text.starts_with("set ") || text.starts_with("map ") || text.starts_with("chain ")) {
      block = text.substr(0, text.find(" {"));
    }
    blocks[block];
    if (!text.starts_with(block)) {
      blocks[block].insert(text);
    }
  }
  return blocks;
}

}  // namespace

std::string DiffRulesets(const std::string& before, const std::string& after) {
  auto old_blocks = LinesByBlock(before);
  auto new_blocks = LinesByBlock(after);
  std::set<std::string> names;
  for (const auto& [name, lines] : old_blocks) {
    names.insert(name);
  }
  for (const auto& [name, lines] : new_blocks) {
    names.insert(name);
  }
  std::ostringstream out;
  const std::multiset<std::string> none;
  auto lines_of = [&none](const auto& blocks, const std::string& name) -> const auto& {
    auto found = blocks.find(name);
    return found == blocks.end() ? none : found->second;
  };
  for (const std::string& name : names) {
    const auto& old_lines = lines_of(old_blocks, name);
    const auto& new_lines = lines_of(new_blocks, name);
    std::vector<std::string> removed;
    std::vector<std::string> added;
    std::ranges::set_difference(old_lines, new_lines, std::back_inserter(removed));
    std::ranges::set_difference(new_lines, old_lines, std::back_inserter(added));
    if (removed.empty() && added.empty() &&
        old_blocks.contains(name) == new_blocks.contains(name)) {
      continue;
    }
    if (!old_blocks.contains(name)) {
      out << "+ " << name << "\n";
    } else if (!new_blocks.contains(name)) {
      out << "- " << name << "\n";
    } else {
      out << name << "\n";
    }
    for (const std::string& line : removed) {
      out << "  - " << line << "\n";
    }
    for (const std::string& line : added) {
      out << "  + " << line << "\n";
    }
  }
  return out.str();
}

Result<ApplyReport> Enforce(mud::MudManager& manager, mud::MudStore& store, Firewall& firewall,
                            bool dry_run, const Clock& clock, const PolicyAdjustment& adjust,
                            const std::string& actor) {
  ASSIGN_OR_RETURN(mud::CompiledSite site, manager.Compile());
  if (adjust) {
    RETURN_IF_ERROR(adjust(site.policy));
  }
  std::string ruleset = RenderRuleset(site.policy);
  ApplyReport report;
  report.dry_run = dry_run;
  report.sha256 = HexEncode(crypto::Sha256(AsBytes(ruleset)));
  report.devices = site.policy.bindings.size();
  report.profiles = site.policy.profiles.size();
  report.rules = site.policy.RuleCount();
  report.unmanaged = std::move(site.unmanaged);
  ASSIGN_OR_RETURN(auto applied, store.FindAppliedPolicy());
  report.diff = DiffRulesets(applied ? applied->ruleset : "", ruleset);
  report.ruleset = ruleset;
  if (dry_run) {
    RETURN_IF_ERROR(firewall.Check(ruleset));
    report.changed = !applied || applied->sha256 != report.sha256;
    return report;
  }
  // The table may have been removed behind our back (a reboot, `nft flush ruleset`): then the
  // same ruleset is applied again.
  ASSIGN_OR_RETURN(std::string live, firewall.Current());
  if (applied && applied->sha256 == report.sha256 && !live.empty()) {
    return report;
  }
  RETURN_IF_ERROR(firewall.Replace(ruleset));
  report.changed = true;
  size_t added = 0;
  size_t removed = 0;
  std::istringstream diff(report.diff);
  for (std::string line; std::getline(diff, line);) {
    added += line.starts_with("  + ") ? 1 : 0;
    removed += line.starts_with("  - ") ? 1 : 0;
  }
  Json summary{{"devices", report.devices},
               {"profiles", report.profiles},
               {"rules", report.rules},
               {"blocks", site.policy.blocks.size()},
               {"quarantined", site.policy.quarantines.size()},
               {"firewall", firewall.Kind()},
               {"lines_added", added},
               {"lines_removed", removed},
               {"reinstated", applied && applied->sha256 == report.sha256}};
  if (!actor.empty()) {
    summary["by"] = actor;
  }
  RETURN_IF_ERROR(store.RecordApplied(
      mud::AppliedPolicy{ruleset, report.sha256, ToUnixSeconds(clock.Now())}, summary));
  return report;
}

}  // namespace concierge::firewall
