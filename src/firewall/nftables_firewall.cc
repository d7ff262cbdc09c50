#include <memory>

#include <nftables/libnftables.h>

#include "common/bytes.h"
#include "firewall/firewall.h"
#include "firewall/nft_ruleset.h"

namespace concierge::firewall {
namespace {

struct NftContextFree {
  void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};

using NftContext = std::unique_ptr<nft_ctx, NftContextFree>;

class NftablesFirewall final : public Firewall {
 public:
  Status Replace(std::string_view ruleset) override { return Run(ReplaceBatch(ruleset), false); }

  Status Check(std::string_view ruleset) override { return Run(ReplaceBatch(ruleset), true); }

  Result<std::string> Current() override {
    NftContext ctx = NewContext(false);
    std::string command = "list table inet " + std::string(kTableName);
    if (nft_run_cmd_from_buffer(ctx.get(), command.c_str()) != 0) {
      std::string error = nft_ctx_get_error_buffer(ctx.get());
      if (error.find("No such file or directory") != std::string::npos) {
        return std::string();
      }
      return std::unexpected(Failure(error));
    }
    return std::string(nft_ctx_get_output_buffer(ctx.get()));
  }

  std::string_view Kind() const override { return "nftables"; }

 private:
  // The table is created if absent, deleted and defined anew, all in one batch: nft applies a
  // buffer as one kernel transaction.
  static std::string ReplaceBatch(std::string_view ruleset) {
    std::string table = "inet " + std::string(kTableName);
    return "add table " + table + "\ndelete table " + table + "\n" + std::string(ruleset);
  }

  static NftContext NewContext(bool dry_run) {
    NftContext ctx(nft_ctx_new(NFT_CTX_DEFAULT));
    nft_ctx_buffer_output(ctx.get());
    nft_ctx_buffer_error(ctx.get());
    nft_ctx_set_dry_run(ctx.get(), dry_run);
    return ctx;
  }

  static Status Run(const std::string& batch, bool dry_run) {
    NftContext ctx = NewContext(dry_run);
    if (nft_run_cmd_from_buffer(ctx.get(), batch.c_str()) != 0) {
      return std::unexpected(Failure(nft_ctx_get_error_buffer(ctx.get())));
    }
    return OkStatus();
  }

  static Error Failure(std::string_view error_buffer) {
    std::string message(TrimTrailingSpace(error_buffer));
    if (message.find("Operation not permitted") != std::string::npos) {
      return Error(ErrorCode::kPermissionDenied,
                   "nftables: " + message + " (changing the firewall needs CAP_NET_ADMIN)");
    }
    if (message.size() > 4000) {
      message = message.substr(0, 4000) + "...";
    }
    return Error(ErrorCode::kFailedPrecondition, "nftables refused the ruleset: " + message);
  }
};

}  // namespace

Result<std::unique_ptr<Firewall>> OpenNftables() {
  NftContext probe(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!probe) {
    return MakeError(ErrorCode::kUnavailable, "nftables: cannot create a libnftables context");
  }
  return std::unique_ptr<Firewall>(new NftablesFirewall());
}

}  // namespace concierge::firewall
