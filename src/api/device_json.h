#pragma once

#include "common/json.h"
#include "registrar/site_store.h"
#include "registry/device_registry.h"
#include "site/site.h"

namespace concierge::api {

// The one JSON form of the site's device records, for the management API and the command
// line's --json alike.
Json OnboardingJson(const registrar::DeviceRecord& device);
Json RegistryDeviceJson(const registry::Device& device);
Json DeviceDetailJson(const site::DeviceDetail& detail);

}  // namespace concierge::api
