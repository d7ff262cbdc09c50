#include "site/https_network.h"

#include <chrono>

#include "mud/network.h"
#include "registrar/https_masa_client.h"

namespace concierge::site {

Network HttpsNetwork() {
  Network network;
  network.masa = [](const registrar::SiteDirectory& directory, registrar::SiteStore& store) {
    registrar::SiteStore* makers = &store;
    return std::make_shared<registrar::HttpsMasaClient>(directory.Tls(), [makers] {
      std::vector<crypto::Certificate> anchors;
      if (auto trusted = makers->ListMakers()) {
        for (const auto& maker : *trusted) {
          anchors.push_back(maker.ca);
        }
      }
      return anchors;
    });
  };
  network.mud_fetcher = [](const std::vector<crypto::Certificate>& anchors) {
    return mud::MakeHttpsFetcher(anchors, std::chrono::seconds(20));
  };
  network.resolver = [](const std::vector<std::string>& servers) {
    return mud::MakeDnsResolver(servers);
  };
  return network;
}

}  // namespace concierge::site
