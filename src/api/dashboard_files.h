#pragma once

#include <optional>
#include <string_view>

namespace concierge::api {

// DashboardFile is one file of the dashboard (src/dashboard/), built into the binary.
struct DashboardFile {
  std::string_view content_type;
  std::string_view body;
};

// FindDashboardFile gives the file served at path ("/" is the page), if there is one.
std::optional<DashboardFile> FindDashboardFile(std::string_view path);

}  // namespace concierge::api
