#include "lab/lab_world.h"

#include <algorithm>
#include <cmath>

#include "http/tls.h"
#include "masa/masa_http.h"
#include "registrar/registrar_http.h"
#include "site/https_network.h"

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
  ASSIGN_OR_RETURN(maker->store,
                   masa::MakerStore::Open(maker->directory.DatabaseLocation(), clock));
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
                                              int workers, const Clock& clock, Random& random,
                                              const std::string& database) {
  ASSIGN_OR_RETURN(auto directory,
                   registrar::InitSiteDirectory(dir, name, "", clock, random, database));
  ASSIGN_OR_RETURN(auto lab_site, StartLabController(dir, workers, clock, random));
  if (auto trusted = lab_site->site->store().AddTrustedMaker(
          maker.directory.name, maker.directory.masa.maker_ca, registrar::Approval::kAuto);
      !trusted) {
    return std::unexpected(trusted.error());
  }
  return lab_site;
}

Result<std::unique_ptr<LabSite>> StartLabController(const std::filesystem::path& dir, int workers,
                                                    const Clock& clock, Random& random) {
  auto lab_site = std::make_unique<LabSite>();
  ASSIGN_OR_RETURN(lab_site->site, site::Site::Open(dir, site::HttpsNetwork(), clock, random));
  site::Site& site = *lab_site->site;
  ASSIGN_OR_RETURN(auto ctx, http::MakeServerContext(site.directory().Tls(), true));
  http::ServerOptions options;
  options.workers = workers;
  // Every lab pledge connects from 127.0.0.1, as if through one join proxy: the per-source cap
  // would otherwise refuse a lab run with a thousand pledges in flight.
  options.max_connections_per_source = options.max_connections;
  ASSIGN_OR_RETURN(lab_site->server,
                   http::HttpsServer::StartAsync(
                       {"127.0.0.1", 0}, std::move(ctx),
                       [&site](const http::HttpRequest& request, const http::ConnectionInfo& info,
                               const http::Respond& respond) {
                         registrar::HandleSiteRequestAsync(site.registrar(), site.ownership(),
                                                           request, info, respond);
                       },
                       options));
  return lab_site;
}

}  // namespace concierge::lab
