#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/simulated_clock.h"
#include "common/temp_dir.h"
#include "http/http_message.h"
#include "masa/maker_directory.h"
#include "pledge/pledge.h"
#include "registrar/registrar_service.h"
#include "registrar/site_directory.h"
#include "registrar/site_ownership.h"
#include "site/site.h"
#include "tests/support/test_database.h"

namespace concierge::testing {

// InProcessMasa routes voucher requests to MasaService objects by base URL, in memory.
class InProcessMasa final : public registrar::MasaClient {
 public:
  void Add(const std::string& base_url, masa::MasaService* service) {
    services_[base_url] = service;
  }

  Result<Bytes> RequestVoucher(const std::string& base_url, voucher::Format format,
                               ByteSpan rvr) override;
  Result<Bytes> FetchChain(const std::string& base_url, const std::string& serial) override;
  Status SubmitChain(const std::string& base_url, ByteSpan chain) override;
  Result<std::string> SubmitStatement(const std::string& base_url, ByteSpan statement) override;

 private:
  Result<masa::MasaService*> Find(const std::string& base_url);

  std::map<std::string, masa::MasaService*> services_;
};

// InMemoryConnector hands pledge requests to a RegistrarService through the real HTTP binding
// on both sides, as if over TLS with the pledge's client certificate. A hook may rewrite
// responses.
class InMemoryConnector final : public pledge::Connector {
 public:
  using ResponseHook = std::function<void(const http::HttpRequest&, http::HttpResponse&)>;

  InMemoryConnector(registrar::RegistrarService& service, const Clock& clock)
      : service_(service), clock_(clock) {}

  void Open(const crypto::Credential& client, const std::vector<crypto::Certificate>& anchors,
            Callback<std::unique_ptr<pledge::RegistrarConnection>> done) override;

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

// A Site is the site runtime (site::Site, as the CLI, the lab and the site controller open
// it) on an in-memory network, with a connector to it. The pointers name its parts.
struct Site {
  explicit Site(std::unique_ptr<site::Site> opened)
      : runtime(std::move(opened)),
        directory(runtime->directory()),
        store(&runtime->store()),
        service(&runtime->registrar()),
        ownership(&runtime->ownership()) {}

  std::unique_ptr<site::Site> runtime;
  registrar::SiteDirectory directory;
  registrar::SiteStore* store = nullptr;
  registrar::RegistrarService* service = nullptr;
  registrar::SiteOwnership* ownership = nullptr;
  std::unique_ptr<InMemoryConnector> connector;
};

// OnboardingWorld builds makers, sites and devices under one temp dir and fake clock.
class OnboardingWorld {
 public:
  OnboardingWorld();

  Maker& AddMaker(const std::string& name, masa::MasaPolicy policy = {});
  Site& AddSite(const std::string& name);
  // Mint returns a device identity made by maker; masa_url_of overrides which MASA it names.
  pledge::PledgeIdentity Mint(Maker& maker, const std::string& serial,
                              std::optional<std::chrono::hours> validity = std::nullopt,
                              const std::string& masa_url_of = "");
  pledge::Pledge MakePledge(const pledge::PledgeIdentity& identity, Site& site,
                            pledge::PledgeOptions options = {});
  size_t AuditEvents(Site& site);

  SimulatedClock clock;
  CryptoRandom random;
  InProcessMasa masa;
  // The network every site here reaches: MASAs in memory; no MUD file servers or DNS.
  site::Network network;

 private:
  // NewDatabase is "" on SQLite (each directory keeps its file), or a fresh PostgreSQL
  // database when the store tests run there (tests/support/test_database.h).
  std::string NewDatabase();

  TempDir temp_;
  std::vector<std::unique_ptr<TestDatabase>> databases_;
  std::vector<std::unique_ptr<Maker>> makers_;
  std::vector<std::unique_ptr<Site>> sites_;
};

}  // namespace concierge::testing
