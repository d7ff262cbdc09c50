// The site's MUD state as the policy and exposure commands open it.
#include "app/policy_site.h"

#include <chrono>

#include "common/files.h"
#include "common/ip_network.h"
#include "firewall/firewall.h"
#include "registrar/site_directory.h"
#include "registrar/site_store.h"

namespace concierge::app {
namespace {

bool IsLoopback(const std::string& address) {
  auto parsed = IpNetwork::Parse(address);
  if (!parsed) {
    return false;
  }
  for (std::string_view loopback : {"127.0.0.0/8", "::1/128"}) {
    if (IpNetwork::Parse(loopback)->Contains(*parsed)) {
      return true;
    }
  }
  return false;
}

// SyncOnboarded gives every device onboarded with BRSKI the MUD URL its IDevID carries.
Status SyncOnboarded(const registrar::SiteDirectory& dir, mud::MudStore& store,
                     const Clock& clock) {
  ASSIGN_OR_RETURN(auto site_store, registrar::SiteStore::Open(dir.DatabasePath(), clock));
  ASSIGN_OR_RETURN(auto devices, site_store->ListDevices());
  for (const auto& device : devices) {
    if (!device.Active()) {
      RETURN_IF_ERROR(store.RemoveDevice(device.serial));
      continue;
    }
    if (device.mud_url.empty() || !device.HoldsLdevid()) {
      continue;
    }
    ASSIGN_OR_RETURN(auto known, store.FindDevice(device.serial));
    bool current =
        known && (known->url_source == mud::kSourceManual ||
                  (known->url_source == mud::kSourceIdevid && known->mud_url == device.mud_url));
    if (!current) {
      RETURN_IF_ERROR(store.AssignUrl(device.serial, device.mud_url, mud::kSourceIdevid));
    }
    // The enrolment address is taken once, when the device first appears here; later a DHCP
    // lease or an operator moves it. A loopback address says only that the device ran on this
    // host (a lab, the demo): it is not where the device is on the site's network.
    if (!device.address.empty() && !known && !IsLoopback(device.address)) {
      RETURN_IF_ERROR(store.SetAddresses(device.serial, {device.address}));
    }
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<Site>> OpenSite(const std::string& directory,
                                       const std::vector<std::string>& tls_cas,
                                       bool trust_expired_signers) {
  auto site = std::make_unique<Site>();
  ASSIGN_OR_RETURN(auto dir, registrar::LoadSiteDirectory(directory));
  site->database = dir.DatabasePath();
  ASSIGN_OR_RETURN(site->store, mud::MudStore::Open(dir.DatabasePath(), site->clock));
  RETURN_IF_ERROR(SyncOnboarded(dir, *site->store, site->clock));
  ASSIGN_OR_RETURN(std::vector<crypto::Certificate> anchors, site->store->AllSignerAnchors());
  for (const std::string& path : tls_cas) {
    ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
    ASSIGN_OR_RETURN_CTX(auto chain, crypto::Certificate::FromPemChain(pem), path);
    anchors.insert(anchors.end(), chain.begin(), chain.end());
  }
  ASSIGN_OR_RETURN(site->fetcher, mud::MakeHttpsFetcher(anchors, std::chrono::seconds(20)));
  ASSIGN_OR_RETURN(auto facts, site->store->ListFacts());
  std::vector<std::string> servers;
  for (const auto& [kind, key, value] : facts) {
    if (kind == mud::kFactDnsServer) {
      servers.push_back(value);
    }
  }
  site->resolver = mud::MakeDnsResolver(servers);
  site->manager = std::make_unique<mud::MudManager>(
      *site->store, *site->fetcher, *site->resolver, site->clock,
      trust_expired_signers ? mud::ExpiredSignerPolicy::kTrustSigningTime
                            : mud::ExpiredSignerPolicy::kRefuse);
  return site;
}

Result<firewall::ApplyReport> EnforceNow(Site& site, bool dry_run) {
  ASSIGN_OR_RETURN(auto nft, firewall::OpenNftables());
  ASSIGN_OR_RETURN(firewall::PolicyAdjustment adjust, TighteningAdjustment(site));
  return firewall::Enforce(*site.manager, *site.store, *nft, dry_run, site.clock, adjust);
}

}  // namespace concierge::app
