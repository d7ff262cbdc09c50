#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/random.h"
#include "registrar/https_masa_client.h"
#include "registrar/registrar_service.h"
#include "registrar/site_directory.h"
#include "registrar/site_ownership.h"

namespace concierge::app {

// SiteController is a site directory opened for work: its store, the registrar, its MASA
// client (MASAs authenticated by the trusted makers' CAs) and its ownership desk.
struct SiteController {
  explicit SiteController(registrar::SiteDirectory directory) : site(std::move(directory)) {}

  SystemClock clock;
  CryptoRandom random;
  registrar::SiteDirectory site;
  std::unique_ptr<registrar::SiteStore> store;
  std::unique_ptr<registrar::HttpsMasaClient> masa;
  std::unique_ptr<registrar::RegistrarService> registrar;
  std::unique_ptr<registrar::SiteOwnership> ownership;
};

Result<std::unique_ptr<SiteController>> OpenSiteController(const std::string& dir);

}  // namespace concierge::app
