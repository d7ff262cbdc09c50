#include <mutex>

#include "firewall/firewall.h"

namespace concierge::firewall {
namespace {

class DryRunFirewall final : public Firewall {
 public:
  Status Replace(std::string_view ruleset) override {
    std::lock_guard lock(mutex_);
    ruleset_ = ruleset;
    return OkStatus();
  }

  Status Check(std::string_view /*ruleset*/) override { return OkStatus(); }

  Result<std::string> Current() override {
    std::lock_guard lock(mutex_);
    return ruleset_;
  }

  std::string_view Kind() const override { return "dry-run"; }

 private:
  std::mutex mutex_;
  std::string ruleset_;
};

}  // namespace

std::unique_ptr<Firewall> OpenDryRun() {
  return std::make_unique<DryRunFirewall>();
}

}  // namespace concierge::firewall
