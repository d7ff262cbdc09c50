#include "fakes/onboarding_world.h"

#include <gtest/gtest.h>

#include "pledge/http_registrar.h"
#include "registrar/registrar_http.h"
#include "store/audit_log.h"
#include "voucher/cose_voucher.h"

namespace concierge::testing {
namespace {

// This world has no MUD file servers and no names in DNS.
class NoMudServers final : public mud::Fetcher {
 public:
  Result<std::string> Fetch(const std::string& url, size_t) override {
    return MakeError(ErrorCode::kUnavailable, "no MUD file server in this world for " + url);
  }
};

class NoNames final : public mud::Resolver {
 public:
  Result<mud::DnsAnswer> Resolve(const std::string&) override {
    return mud::DnsAnswer{{}, std::chrono::seconds(60)};
  }
};

}  // namespace

Result<masa::MasaService*> InProcessMasa::Find(const std::string& base_url) {
  auto it = services_.find(base_url);
  if (it == services_.end()) {
    return MakeError(ErrorCode::kUnavailable, "no MASA at " + base_url);
  }
  return it->second;
}

Result<Bytes> InProcessMasa::RequestVoucher(const std::string& base_url, voucher::Format format,
                                            ByteSpan rvr_bytes) {
  ASSIGN_OR_RETURN(masa::MasaService * service, Find(base_url));
  ASSIGN_OR_RETURN(
      auto rvr, voucher::OpenVoucherRequestAs(format, rvr_bytes, voucher::RequestFrom::kRegistrar));
  return service->RequestVoucher(rvr, crypto::PeerIdentity{});
}

Result<Bytes> InProcessMasa::FetchChain(const std::string& base_url, const std::string& serial) {
  ASSIGN_OR_RETURN(masa::MasaService * service, Find(base_url));
  return service->OwnershipChain(serial);
}

Status InProcessMasa::SubmitChain(const std::string& base_url, ByteSpan chain) {
  ASSIGN_OR_RETURN(masa::MasaService * service, Find(base_url));
  return service->SubmitChain(chain);
}

Result<std::string> InProcessMasa::SubmitStatement(const std::string& base_url,
                                                   ByteSpan statement) {
  ASSIGN_OR_RETURN(masa::MasaService * service, Find(base_url));
  return service->SubmitStatement(statement);
}

void InMemoryConnector::Open(const crypto::Credential& client,
                             const std::vector<crypto::Certificate>& anchors,
                             Callback<std::unique_ptr<pledge::RegistrarConnection>> done) {
  const registrar::RegistrarIdentity& identity = service_.identity();
  if (!anchors.empty()) {
    auto trusted = crypto::VerifyChain(identity.registrar_cert, {identity.domain_ca}, anchors,
                                       {.at = clock_.Now(), .allow_partial = true});
    if (!trusted) {
      done(std::unexpected(trusted.error()));
      return;
    }
  }
  crypto::PeerIdentity peer{client.certificate, client.chain, "192.0.2.1"};
  auto exchange = [this, peer](const http::HttpRequest& request) -> Result<http::HttpResponse> {
    requests.push_back(request);
    http::HttpResponse response =
        ownership != nullptr ? registrar::HandleSiteRequest(service_, *ownership, request, peer)
                             : registrar::HandleRegistrarRequest(service_, request, peer);
    if (hook) {
      hook(request, response);
    }
    return response;
  };
  done(
      pledge::MakeHttpRegistrarConnection(exchange, identity.registrar_cert, {identity.domain_ca}));
}

OnboardingWorld::OnboardingWorld() {
  // Every site shares the world's in-memory MASAs (the aliasing pointer owns nothing).
  network.masa = [this](const registrar::SiteDirectory&, registrar::SiteStore&) {
    return std::shared_ptr<registrar::MasaClient>(std::shared_ptr<void>(), &masa);
  };
  network.mud_fetcher =
      [](const std::vector<crypto::Certificate>&) -> Result<std::unique_ptr<mud::Fetcher>> {
    return std::make_unique<NoMudServers>();
  };
  network.resolver = [](const std::vector<std::string>&) -> std::unique_ptr<mud::Resolver> {
    return std::make_unique<NoNames>();
  };
}

std::string OnboardingWorld::NewDatabase() {
  if (!OnPostgres()) {
    return "";
  }
  databases_.push_back(std::make_unique<TestDatabase>());
  EXPECT_TRUE(databases_.back()->Ready()) << databases_.back()->Problem();
  return databases_.back()->Location();
}

Maker& OnboardingWorld::AddMaker(const std::string& name, masa::MasaPolicy policy) {
  auto dir = temp_.path() / ("maker-" + std::to_string(makers_.size()));
  std::string url = "masa-" + std::to_string(makers_.size()) + ".example:443";
  auto directory = masa::InitMakerDirectory(dir, name, url, clock, random, NewDatabase());
  EXPECT_TRUE(directory) << directory.error().ToString();
  auto maker = std::make_unique<Maker>(Maker{*directory, nullptr, nullptr});
  maker->store =
      std::move(masa::MakerStore::Open(maker->directory.DatabaseLocation(), clock).value());
  maker->service =
      std::make_unique<masa::MasaService>(*maker->store, clock, maker->directory.masa, policy);
  masa.Add("https://" + url + "/.well-known/brski", maker->service.get());
  makers_.push_back(std::move(maker));
  return *makers_.back();
}

Site& OnboardingWorld::AddSite(const std::string& name) {
  auto dir = temp_.path() / ("site-" + std::to_string(sites_.size()));
  auto directory = registrar::InitSiteDirectory(dir, name, "", clock, random, NewDatabase());
  EXPECT_TRUE(directory) << directory.error().ToString();
  auto runtime = site::Site::Open(dir, network, clock, random);
  EXPECT_TRUE(runtime) << runtime.error().ToString();
  auto site = std::make_unique<Site>(std::move(runtime.value()));
  site->connector = std::make_unique<InMemoryConnector>(*site->service, clock);
  site->connector->ownership = site->ownership;
  sites_.push_back(std::move(site));
  return *sites_.back();
}

pledge::PledgeIdentity OnboardingWorld::Mint(Maker& maker, const std::string& serial,
                                             std::optional<std::chrono::hours> validity,
                                             const std::string& masa_url_of) {
  masa::MakerDirectory directory = maker.directory;
  if (!masa_url_of.empty()) {
    directory.masa_url = masa_url_of;
  }
  auto minted = masa::MintIdevid(directory, *maker.store, {serial, "", validity}, clock, random);
  EXPECT_TRUE(minted) << minted.error().ToString();
  return pledge::PledgeIdentity{minted->idevid,
                                minted->key,
                                {},
                                {maker.directory.masa.maker_ca, maker.directory.masa.signer}};
}

pledge::Pledge OnboardingWorld::MakePledge(const pledge::PledgeIdentity& identity, Site& site,
                                           pledge::PledgeOptions options) {
  return pledge::Pledge(identity, *site.connector, clock, clock, random, std::move(options));
}

size_t OnboardingWorld::AuditEvents(Site& site) {
  auto records = store::ReadAuditEvents(site.store->database());
  EXPECT_TRUE(records);
  EXPECT_TRUE(store::VerifyAuditChain(*records));
  return records->size();
}

}  // namespace concierge::testing
