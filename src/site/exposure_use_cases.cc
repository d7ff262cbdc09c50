// The exposure analyzer's use cases: its view of the site, tightening, and what the operator
// tells it.
#include "site/site.h"

namespace concierge::site {

Result<std::unique_ptr<ExposureView>> Site::OpenExposureView() {
  ASSIGN_OR_RETURN(mud::MudManager * manager, Mud());
  auto view = std::make_unique<ExposureView>();
  ASSIGN_OR_RETURN(view->store, OpenExposureStore());
  ASSIGN_OR_RETURN(auto compiled, manager->Compile());
  view->policy = std::move(compiled.policy);
  RETURN_IF_ERROR(FillExposureModel(*view->store, view->policy, view->model));
  ASSIGN_OR_RETURN(view->settings, view->store->LoadSettings());
  return view;
}

Result<firewall::ApplyReport> Site::SetTightening(const exposure::TighteningSettings& settings,
                                                  const Json& detail,
                                                  firewall::Firewall& firewall) {
  {
    ASSIGN_OR_RETURN(auto store, OpenExposureStore());
    RETURN_IF_ERROR(store->SaveSettings(settings, detail));
  }
  return ApplyPolicy(firewall, /*dry_run=*/false, detail.value("by", ""));
}

Status Site::MarkWeakness(const std::string& device, const std::string& weakness) {
  ASSIGN_OR_RETURN(auto store, OpenExposureStore());
  return store->Mark(device, weakness);
}

Status Site::UnmarkWeakness(const std::string& device, const std::string& weakness) {
  ASSIGN_OR_RETURN(auto store, OpenExposureStore());
  return store->Unmark(device, weakness);
}

Status Site::SetSoftware(const std::string& device, const std::string& package,
                         const std::string& version) {
  ASSIGN_OR_RETURN(registry::DeviceRegistry * registry, Registry());
  return registry->SetSoftware(device, package, version);
}

Result<size_t> Site::StoreThreatCatalogue(const std::string& body) {
  ASSIGN_OR_RETURN(auto catalogue, exposure::ParseThreatCatalogue(body));
  ASSIGN_OR_RETURN(auto store, OpenExposureStore());
  RETURN_IF_ERROR(store->StoreKnowledge("threats", body));
  return catalogue.threats.size();
}

Result<std::vector<size_t>> Site::StoreAdvisories(
    const std::vector<std::pair<std::string, std::string>>& named_documents) {
  Json all = Json::array();
  std::vector<size_t> counts;
  for (const auto& [name, body] : named_documents) {
    ASSIGN_OR_RETURN_CTX(auto parsed, exposure::ParseOsvAdvisories(body), name);
    counts.push_back(parsed.size());
    Json document = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (document.is_array()) {
      all.insert(all.end(), document.begin(), document.end());
    } else {
      all.push_back(document);
    }
  }
  ASSIGN_OR_RETURN(auto store, OpenExposureStore());
  RETURN_IF_ERROR(store->StoreKnowledge("advisories", all.dump()));
  return counts;
}

}  // namespace concierge::site
