#include "fakes/onboarding_world.h"

#include <gtest/gtest.h>

#include "registrar/registrar_http.h"
#include "store/audit_log.h"

namespace concierge::testing {
namespace {

class InMemoryConnection final : public pledge::RegistrarConnection {
 public:
  InMemoryConnection(InMemoryConnector& connector, registrar::RegistrarService& service,
                     http::ConnectionInfo info)
      : connector_(connector), service_(service), info_(std::move(info)) {}

  Result<http::HttpResponse> Post(std::string_view path, std::string_view content_type,
                                  std::string body, std::string_view accept) override {
    http::HttpRequest request{"POST", std::string(path), {}, std::move(body), true};
    request.headers["content-type"] = std::string(content_type);
    if (!accept.empty()) {
      request.headers["accept"] = std::string(accept);
    }
    return Handle(request);
  }

  Result<http::HttpResponse> Get(std::string_view path, std::string_view /*accept*/) override {
    return Handle(http::HttpRequest{"GET", std::string(path), {}, "", true});
  }

  const crypto::Certificate& ServerCertificate() const override {
    return service_.identity().registrar_cert;
  }

  std::vector<crypto::Certificate> ServerChain() const override {
    return {service_.identity().domain_ca};
  }

 private:
  Result<http::HttpResponse> Handle(const http::HttpRequest& request) {
    connector_.requests.push_back(request);
    http::HttpResponse response =
        connector_.ownership != nullptr
            ? registrar::HandleSiteRequest(service_, *connector_.ownership, request, info_)
            : registrar::HandleRegistrarRequest(service_, request, info_);
    if (connector_.hook) {
      connector_.hook(request, response);
    }
    return response;
  }

  InMemoryConnector& connector_;
  registrar::RegistrarService& service_;
  http::ConnectionInfo info_;
};

}  // namespace

Result<masa::MasaService*> InProcessMasa::Find(const std::string& base_url) {
  auto it = services_.find(base_url);
  if (it == services_.end()) {
    return MakeError(ErrorCode::kUnavailable, "no MASA at " + base_url);
  }
  return it->second;
}

Result<Bytes> InProcessMasa::RequestVoucher(const std::string& base_url, ByteSpan rvr_cms) {
  ASSIGN_OR_RETURN(masa::MasaService * service, Find(base_url));
  return service->RequestVoucher(rvr_cms, std::nullopt);
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

Result<std::unique_ptr<pledge::RegistrarConnection>> InMemoryConnector::Open(
    const http::TlsIdentity& client, const std::vector<crypto::Certificate>& anchors) {
  if (!anchors.empty()) {
    RETURN_IF_ERROR(crypto::VerifyChain(service_.identity().registrar_cert,
                                        {service_.identity().domain_ca}, anchors,
                                        {.at = clock_.Now(), .allow_partial = true}));
  }
  http::ConnectionInfo info{client.certificate, client.chain, "192.0.2.1"};
  return std::unique_ptr<pledge::RegistrarConnection>(
      new InMemoryConnection(*this, service_, std::move(info)));
}

OnboardingWorld::OnboardingWorld() = default;

Maker& OnboardingWorld::AddMaker(const std::string& name) {
  auto dir = temp_.path() / ("maker-" + std::to_string(makers_.size()));
  std::string url = "masa-" + std::to_string(makers_.size()) + ".example:443";
  auto directory = masa::InitMakerDirectory(dir, name, url, clock, random);
  EXPECT_TRUE(directory) << directory.error().ToString();
  auto maker = std::make_unique<Maker>(Maker{*directory, nullptr, nullptr});
  maker->store = std::move(masa::MakerStore::Open(maker->directory.DatabasePath(), clock).value());
  maker->service = std::make_unique<masa::MasaService>(*maker->store, clock, maker->directory.masa);
  masa.Add("https://" + url + "/.well-known/brski", maker->service.get());
  makers_.push_back(std::move(maker));
  return *makers_.back();
}

Site& OnboardingWorld::AddSite(const std::string& name) {
  auto dir = temp_.path() / ("site-" + std::to_string(sites_.size()));
  auto directory = registrar::InitSiteDirectory(dir, name, "", clock, random);
  EXPECT_TRUE(directory) << directory.error().ToString();
  auto site = std::make_unique<Site>(Site{*directory, nullptr, nullptr, nullptr, nullptr});
  site->store =
      std::move(registrar::SiteStore::Open(site->directory.DatabasePath(), clock).value());
  site->service = std::make_unique<registrar::RegistrarService>(*site->store, masa, clock, random,
                                                                site->directory.identity);
  site->connector = std::make_unique<InMemoryConnector>(*site->service, clock);
  site->ownership =
      std::make_unique<registrar::SiteOwnership>(*site->store, masa, *site->service, clock);
  site->connector->ownership = site->ownership.get();
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
  return pledge::PledgeIdentity{minted->idevid, minted->key, {}, {maker.directory.masa.maker_ca}};
}

pledge::Pledge OnboardingWorld::MakePledge(const pledge::PledgeIdentity& identity, Site& site,
                                           pledge::PledgeOptions options) {
  return pledge::Pledge(identity, *site.connector, clock, random, std::move(options));
}

size_t OnboardingWorld::AuditEvents(Site& site) {
  auto records = store::ReadAuditEvents(site.store->database());
  EXPECT_TRUE(records);
  EXPECT_TRUE(store::VerifyAuditChain(*records));
  return records->size();
}

}  // namespace concierge::testing
