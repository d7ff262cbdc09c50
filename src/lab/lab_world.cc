#include "lab/lab_world.h"

#include <algorithm>
#include <cmath>

#include "masa/masa_http.h"
#include "registrar/registrar_http.h"

namespace concierge::lab {

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  auto index = static_cast<size_t>(std::lround(p * static_cast<double>(values.size() - 1)));
  return values[std::min(index, values.size() - 1)];
}

Result<std::unique_ptr<LabMaker>> StartLabMaker(const std::filesystem::path& dir,
                                                const std::string& name, int workers,
                                                const Clock& clock, Random& random) {
  ASSIGN_OR_RETURN(auto directory,
                   masa::InitMakerDirectory(dir, name, "127.0.0.1:0", clock, random));
  auto maker = std::make_unique<LabMaker>(std::move(directory));
  ASSIGN_OR_RETURN(maker->store, masa::MakerStore::Open(maker->directory.DatabasePath(), clock));
  maker->service = std::make_unique<masa::MasaService>(*maker->store, clock, maker->directory.masa);
  ASSIGN_OR_RETURN(auto ctx, http::MakeServerContext(maker->directory.tls, true));
  http::ServerOptions options;
  options.workers = workers;
  masa::MasaService* service = maker->service.get();
  ASSIGN_OR_RETURN(maker->server, http::HttpsServer::Start(
                                      {"127.0.0.1", 0}, std::move(ctx),
                                      [service](const http::HttpRequest& request,
                                                const http::ConnectionInfo& info) {
                                        return masa::HandleMasaRequest(*service, request, info);
                                      },
                                      options));
  maker->directory.masa_url = "127.0.0.1:" + std::to_string(maker->server->port());
  return maker;
}

Result<std::unique_ptr<LabSite>> StartLabSite(const std::filesystem::path& dir,
                                              const std::string& name, const LabMaker& maker,
                                              int workers, const Clock& clock, Random& random) {
  ASSIGN_OR_RETURN(auto directory, registrar::InitSiteDirectory(dir, name, "", clock, random));
  auto site = std::make_unique<LabSite>(std::move(directory));
  ASSIGN_OR_RETURN(site->store, registrar::SiteStore::Open(site->directory.DatabasePath(), clock));
  const crypto::Certificate& maker_ca = maker.directory.masa.maker_ca;
  if (auto trusted =
          site->store->AddTrustedMaker(maker.directory.name, maker_ca, registrar::Approval::kAuto);
      !trusted) {
    return std::unexpected(trusted.error());
  }
  site->masa = std::make_unique<registrar::HttpsMasaClient>(
      site->directory.Tls(), [maker_ca] { return std::vector<crypto::Certificate>{maker_ca}; });
  site->registrar = std::make_unique<registrar::RegistrarService>(*site->store, *site->masa, clock,
                                                                  random, site->directory.identity);
  site->ownership = std::make_unique<registrar::SiteOwnership>(*site->store, *site->masa,
                                                               *site->registrar, clock);
  ASSIGN_OR_RETURN(auto ctx, http::MakeServerContext(site->directory.Tls(), true));
  http::ServerOptions options;
  options.workers = workers;
  // Every lab pledge connects from 127.0.0.1, as if through one join proxy: the per-source cap
  // would otherwise refuse a lab run with a thousand pledges in flight.
  options.max_connections_per_source = options.max_connections;
  LabSite* raw = site.get();
  ASSIGN_OR_RETURN(site->server,
                   http::HttpsServer::Start(
                       {"127.0.0.1", 0}, std::move(ctx),
                       [raw](const http::HttpRequest& request, const http::ConnectionInfo& info) {
                         return registrar::HandleSiteRequest(*raw->registrar, *raw->ownership,
                                                             request, info);
                       },
                       options));
  return site;
}

}  // namespace concierge::lab
