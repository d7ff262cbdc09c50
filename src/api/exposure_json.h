#pragma once

#include "common/json.h"
#include "exposure/analyzer.h"
#include "exposure/picture.h"

namespace concierge::api {

// The one JSON form of the exposure analyzer's results, for the management API and the
// command line's --json alike.
Json AnalysisJson(const exposure::Analysis& analysis);
Json BlockJson(const mud::Block& block);
Json TighteningJson(const exposure::Tightening& tightening);
Json PictureJson(const exposure::Picture& picture);
// ExplainJson is one device's exposure: its class, what reaches it and what it can attack;
// NotFound if no class holds it.
Result<Json> ExplainJson(const exposure::Analysis& analysis, const std::string& device);

}  // namespace concierge::api
