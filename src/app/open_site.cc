#include "app/open_site.h"

#include "app/cli.h"
#include "common/data_dir.h"
#include "common/files.h"
#include "firewall/firewall.h"
#include "site/https_network.h"

namespace concierge::app {

Result<std::unique_ptr<site::Site>> OpenSite(const std::string& dir, site::SiteOptions options) {
  // One clock and one source of randomness for the process, for as long as any site is open.
  static SystemClock clock;
  static CryptoRandom random;
  if (options.data_dir.empty()) {
    options.data_dir = DataDir();
  }
  return site::Site::Open(dir, site::HttpsNetwork(), clock, random, std::move(options));
}

Result<std::unique_ptr<site::Site>> OpenPolicySite(const std::string& dir,
                                                   const std::vector<std::string>& tls_cas,
                                                   bool trust_expired_signers) {
  site::SiteOptions options;
  options.trust_expired_mud_signers = trust_expired_signers;
  for (const std::string& path : tls_cas) {
    ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
    ASSIGN_OR_RETURN_CTX(auto chain, crypto::Certificate::FromPemChain(pem), path);
    options.mud_tls_anchors.insert(options.mud_tls_anchors.end(), chain.begin(), chain.end());
  }
  ASSIGN_OR_RETURN(auto site, OpenSite(dir, std::move(options)));
  RETURN_IF_ERROR(site->Mud());
  return site;
}

Result<std::unique_ptr<firewall::Firewall>> OpenFirewall(std::string_view kind) {
  if (kind == "nftables") {
    return firewall::OpenNftables();
  }
  if (kind == "dry-run") {
    return firewall::OpenDryRun();
  }
  return MakeError(ErrorCode::kInvalidArgument, "--firewall must be nftables or dry-run, not \"" +
                                                    std::string(kind.substr(0, 32)) + "\"");
}

Result<firewall::ApplyReport> EnforceNow(site::Site& site, bool dry_run) {
  ASSIGN_OR_RETURN(auto nft, firewall::OpenNftables());
  return site.ApplyPolicy(*nft, dry_run, LocalActor());
}

}  // namespace concierge::app
