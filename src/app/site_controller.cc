#include "app/site_controller.h"

namespace concierge::app {

Result<std::unique_ptr<SiteController>> OpenSiteController(const std::string& dir) {
  ASSIGN_OR_RETURN(auto site, registrar::LoadSiteDirectory(dir));
  auto controller = std::make_unique<SiteController>(std::move(site));
  ASSIGN_OR_RETURN(controller->store,
                   registrar::SiteStore::Open(controller->site.DatabasePath(), controller->clock));
  registrar::SiteStore* store = controller->store.get();
  controller->masa =
      std::make_unique<registrar::HttpsMasaClient>(controller->site.Tls(), [store]() {
        std::vector<crypto::Certificate> anchors;
        if (auto makers = store->ListMakers()) {
          for (const auto& maker : *makers) {
            anchors.push_back(maker.ca);
          }
        }
        return anchors;
      });
  controller->registrar = std::make_unique<registrar::RegistrarService>(
      *store, *controller->masa, controller->clock, controller->random, controller->site.identity);
  controller->ownership = std::make_unique<registrar::SiteOwnership>(
      *store, *controller->masa, *controller->registrar, controller->clock);
  return controller;
}

}  // namespace concierge::app
