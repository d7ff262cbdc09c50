#pragma once

#include <string_view>

namespace concierge::api {

// OpenApiDocument is src/api/openapi.json, built into the binary: the OpenAPI 3.1 description
// of the management API, served at /api/v1/openapi.json.
std::string_view OpenApiDocument();

}  // namespace concierge::api
