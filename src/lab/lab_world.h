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
#include "site/site.h"

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

// LabSite is a site (site::Site, as the site controller opens it) serving its registrar, EST
// CA and ownership resources over HTTPS on 127.0.0.1 in this process, trusting one maker.
struct LabSite {
  std::unique_ptr<site::Site> site;
  std::unique_ptr<http::HttpsServer> server;

  std::string Url() const { return "https://127.0.0.1:" + std::to_string(server->port()); }
};

// database, when not empty, is the PostgreSQL URI the site keeps its records in.
Result<std::unique_ptr<LabSite>> StartLabSite(const std::filesystem::path& dir,
                                              const std::string& name, const LabMaker& maker,
                                              int workers, const Clock& clock, Random& random,
                                              const std::string& database = "");

// StartLabController opens the site in dir once more, as another site controller would on
// another machine with a copy of the directory: its own runtime, connections and listener,
// the same records.
Result<std::unique_ptr<LabSite>> StartLabController(const std::filesystem::path& dir, int workers,
                                                    const Clock& clock, Random& random);

// Percentile is the nearest-rank percentile (p in [0, 1]) of values; 0 when there are none.
double Percentile(std::vector<double> values, double p);

}  // namespace concierge::lab
