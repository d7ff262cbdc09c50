#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/temp_dir.h"
#include "fakes/fake_clock.h"
#include "masa/maker_directory.h"
#include "pledge/pledge.h"
#include "registrar/registrar_service.h"
#include "registrar/site_directory.h"
#include "registrar/site_ownership.h"

namespace concierge::testing {

// InProcessMasa routes voucher requests to MasaService objects by base URL, in memory.
class InProcessMasa final : public registrar::MasaClient {
 public:
  void Add(const std::string& base_url, masa::MasaService* service) {
    services_[base_url] = service;
  }

  Result<Bytes> RequestVoucher(const std::string& base_url, ByteSpan rvr_cms) override;
  Result<Bytes> FetchChain(const std::string& base_url, const std::string& serial) override;
  Status SubmitChain(const std::string& base_url, ByteSpan chain) override;
  Result<std::string> SubmitStatement(const std::string& base_url, ByteSpan statement) override;

 private:
  Result<masa::MasaService*> Find(const std::string& base_url);

  std::map<std::string, masa::MasaService*> services_;
};

// InMemoryConnector hands pledge requests to a RegistrarService through the real HTTP
// adapter, as if over TLS with the pledge's client certificate. A hook may rewrite responses.
class InMemoryConnector final : public pledge::Connector {
 public:
  using ResponseHook = std::function<void(const http::HttpRequest&, http::HttpResponse&)>;

  InMemoryConnector(registrar::RegistrarService& service, const Clock& clock)
      : service_(service), clock_(clock) {}

  Result<std::unique_ptr<pledge::RegistrarConnection>> Open(
      const http::TlsIdentity& client, const std::vector<crypto::Certificate>& anchors) override;

  ResponseHook hook;
  std::vector<http::HttpRequest> requests;        // every request seen, in order
  registrar::SiteOwnership* ownership = nullptr;  // when set, the site's own resources too

 private:
  registrar::RegistrarService& service_;
  const Clock& clock_;
};

// A Maker is a maker directory, its store and its MASA service.
struct Maker {
  masa::MakerDirectory directory;
  std::unique_ptr<masa::MakerStore> store;
  std::unique_ptr<masa::MasaService> service;
};

// A Site is a site directory, its store, its registrar service and a connector to it.
struct Site {
  registrar::SiteDirectory directory;
  std::unique_ptr<registrar::SiteStore> store;
  std::unique_ptr<registrar::RegistrarService> service;
  std::unique_ptr<InMemoryConnector> connector;
  std::unique_ptr<registrar::SiteOwnership> ownership;
};

// OnboardingWorld builds makers, sites and devices under one temp dir and fake clock.
class OnboardingWorld {
 public:
  OnboardingWorld();

  Maker& AddMaker(const std::string& name);
  Site& AddSite(const std::string& name);
  // Mint returns a device identity made by maker; masa_url_of overrides which MASA it names.
  pledge::PledgeIdentity Mint(Maker& maker, const std::string& serial,
                              std::optional<std::chrono::hours> validity = std::nullopt,
                              const std::string& masa_url_of = "");
  pledge::Pledge MakePledge(const pledge::PledgeIdentity& identity, Site& site,
                            pledge::PledgeOptions options = {});
  size_t AuditEvents(Site& site);

  FakeClock clock;
  CryptoRandom random;
  InProcessMasa masa;

 private:
  TempDir temp_;
  std::vector<std::unique_ptr<Maker>> makers_;
  std::vector<std::unique_ptr<Site>> sites_;
};

}  // namespace concierge::testing
