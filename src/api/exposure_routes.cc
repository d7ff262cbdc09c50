// The exposure analyzer: its report, one device's exposure, the graph (JSON and SVG), and
// tightening.
#include "api/call.h"
#include "api/exposure_json.h"
#include "api/problem.h"
#include "exposure/picture.h"

namespace concierge::api {
namespace {

constexpr size_t kMaxQuarantinedClasses = 100;

}  // namespace

Json ManagementApi::PolicyJson(const firewall::ApplyReport& report) const {
  return Json{{"firewall", firewall_.Kind()},
              {"changed", report.changed},
              {"sha256", report.sha256},
              {"diff", report.diff}};
}

Result<http::HttpResponse> ManagementApi::ShowExposure(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  ASSIGN_OR_RETURN(auto view, site_.OpenExposureView());
  ASSIGN_OR_RETURN(exposure::Analysis analysis, exposure::Analyze(view->model));
  Json report = AnalysisJson(analysis);
  report["tightening"] = view->settings.enabled;
  report["quarantined_classes"] = view->settings.quarantine;
  return JsonResponse(200, report);
}

Result<http::HttpResponse> ManagementApi::ExplainExposure(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  const std::string& name = call.params["name"];
  RETURN_IF_ERROR(Visible(call, name));
  ASSIGN_OR_RETURN(auto view, site_.OpenExposureView());
  ASSIGN_OR_RETURN(exposure::Analysis analysis, exposure::Analyze(view->model));
  ASSIGN_OR_RETURN(Json explained, ExplainJson(analysis, name));
  return JsonResponse(200, explained);
}

Result<http::HttpResponse> ManagementApi::ExposureGraph(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  ASSIGN_OR_RETURN(auto view, site_.OpenExposureView());
  ASSIGN_OR_RETURN(exposure::Analysis analysis, exposure::Analyze(view->model));
  return JsonResponse(200, PictureJson(exposure::LayOut(analysis)));
}

Result<http::HttpResponse> ManagementApi::ExposureGraphSvg(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  ASSIGN_OR_RETURN(auto view, site_.OpenExposureView());
  ASSIGN_OR_RETURN(exposure::Analysis analysis, exposure::Analyze(view->model));
  http::HttpResponse response =
      http::MakeResponse(200, "image/svg+xml", exposure::RenderSvg(exposure::LayOut(analysis)));
  AddSecurityHeaders(response);
  return response;
}

Result<http::HttpResponse> ManagementApi::TightenExposure(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {}));
  ASSIGN_OR_RETURN(Json body, ReadBody(call.request, {"mode", "quarantine"}));
  auto found = body.find("mode");
  std::string mode = found != body.end() && found->is_string() ? found->get<std::string>() : "";
  if (mode != "preview" && mode != "apply" && mode != "off") {
    return MakeError(ErrorCode::kInvalidArgument, "\"mode\" must be preview, apply or off");
  }
  std::vector<std::string> quarantine;
  if (body.contains("quarantine")) {
    const Json& classes = body["quarantine"];
    if (!classes.is_array() || classes.size() > kMaxQuarantinedClasses ||
        !std::ranges::all_of(classes, [](const Json& c) { return c.is_string(); })) {
      return MakeError(ErrorCode::kInvalidArgument, "\"quarantine\" must be a list of at most " +
                                                        std::to_string(kMaxQuarantinedClasses) +
                                                        " device class ids");
    }
    quarantine = classes.get<std::vector<std::string>>();
  }
  if (mode == "off") {
    ASSIGN_OR_RETURN(firewall::ApplyReport report,
                     site_.SetTightening({false, {}}, Json{{"by", call.Actor()}}, firewall_));
    Json answer = TighteningJson(exposure::Tightening{});
    answer["tightening"] = false;
    answer["policy"] = PolicyJson(report);
    return JsonResponse(200, answer);
  }
  ASSIGN_OR_RETURN(auto view, site_.OpenExposureView());
  ASSIGN_OR_RETURN(exposure::Analysis analysis, exposure::Analyze(view->model));
  ASSIGN_OR_RETURN(exposure::Tightening tightening,
                   exposure::Tighten(view->model, analysis, quarantine));
  Json answer = TighteningJson(tightening);
  answer["tightening"] = mode == "apply" || view->settings.enabled;
  if (mode == "apply") {
    ASSIGN_OR_RETURN(firewall::ApplyReport report,
                     site_.SetTightening({true, quarantine},
                                         Json{{"blocks", tightening.blocks.size()},
                                              {"conflicts", tightening.conflicts.size()},
                                              {"by", call.Actor()}},
                                         firewall_));
    answer["policy"] = PolicyJson(report);
  }
  return JsonResponse(200, answer);
}

}  // namespace concierge::api
