#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "http/https_server.h"
#include "masa/maker_directory.h"
#include "masa/masa_service.h"
#include "registrar/https_masa_client.h"
#include "registrar/site_directory.h"
#include "registrar/site_ownership.h"

namespace concierge::lab {

// LabMaker is a maker with its MASA serving HTTPS on 127.0.0.1 (port 0) in this process.
struct LabMaker {
  explicit LabMaker(masa::MakerDirectory maker) : directory(std::move(maker)) {}

  masa::MakerDirectory directory;
  std::unique_ptr<masa::MakerStore> store;
  std::unique_ptr<masa::MasaService> service;
  std::unique_ptr<http::HttpsServer> server;
};

Result<std::unique_ptr<LabMaker>> StartLabMaker(const std::filesystem::path& dir,
                                                const std::string& name, int workers,
                                                const Clock& clock, Random& random);

// LabSite is a site controller (registrar, EST CA, ownership resources) serving HTTPS on
// 127.0.0.1 in this process, trusting one maker.
struct LabSite {
  explicit LabSite(registrar::SiteDirectory site) : directory(std::move(site)) {}

  registrar::SiteDirectory directory;
  std::unique_ptr<registrar::SiteStore> store;
  std::unique_ptr<registrar::HttpsMasaClient> masa;
  std::unique_ptr<registrar::RegistrarService> registrar;
  std::unique_ptr<registrar::SiteOwnership> ownership;
  std::unique_ptr<http::HttpsServer> server;

  std::string Url() const { return "https://127.0.0.1:" + std::to_string(server->port()); }
};

Result<std::unique_ptr<LabSite>> StartLabSite(const std::filesystem::path& dir,
                                              const std::string& name, const LabMaker& maker,
                                              int workers, const Clock& clock, Random& random);

// Percentile is the nearest-rank percentile (p in [0, 1]) of values; 0 when there are none.
double Percentile(std::vector<double> values, double p);

}  // namespace concierge::lab
