// The certificate inventory: what the site's CA issued, soonest expiry first, with a forecast.
#include <openssl/evp.h>

#include "api/call.h"
#include "crypto/certificate.h"

namespace concierge::api {
namespace {

constexpr size_t kMaxPage = 500;
constexpr int64_t kDay = 86400;

std::string KeyDescription(const crypto::Certificate& certificate) {
  EVP_PKEY* key = certificate.PublicKey();
  if (key == nullptr) {
    return "";
  }
  const char* type = EVP_PKEY_get0_type_name(key);
  return std::string(type != nullptr ? type : "key") + " " + std::to_string(EVP_PKEY_get_bits(key));
}

}  // namespace

Result<http::HttpResponse> ManagementApi::ListCertificates(Call& call) {
  RETURN_IF_ERROR(AllowQuery(call.query, {"within_days", "offset", "limit"}));
  ASSIGN_OR_RETURN(size_t within, QueryNumber(call.query, "within_days", 0, 36500));
  ASSIGN_OR_RETURN(size_t offset, QueryNumber(call.query, "offset", 0, 100'000'000));
  ASSIGN_OR_RETURN(size_t limit, QueryNumber(call.query, "limit", 50, kMaxPage));
  std::optional<std::vector<std::string>> only;
  if (operators::ScopedToDelegations(call.session->holder.role)) {
    ASSIGN_OR_RETURN(only, TenantDevices(call.session->holder.tenant));
  }
  int64_t now = ToUnixSeconds(site_.clock().Now());
  int64_t before =
      call.query.contains("within_days") ? now + static_cast<int64_t>(within) * kDay : 0;
  ASSIGN_OR_RETURN(registrar::CertificatePage page,
                   site_.store().Certificates(now, before, offset, limit, only));
  Json list = Json::array();
  for (const registrar::IssuedCertificate& issued : page.certificates) {
    Json entry = {
        {"serial", issued.serial},
        {"device", issued.device},
        {"kind", issued.kind},
        {"not_after", FormatRfc3339(FromUnixSeconds(issued.not_after))},
        {"days_left", (issued.not_after - now) / kDay},
        {"issued", FormatRfc3339(FromUnixSeconds(issued.issued_at))},
        {"confirmed",
         issued.confirmed_at != 0 ? FormatRfc3339(FromUnixSeconds(issued.confirmed_at)) : ""},
        {"subject", ""},
        {"issuer", ""},
        {"key", ""}};
    if (auto parsed = crypto::Certificate::FromDer(issued.der)) {
      entry["subject"] = parsed->SubjectText();
      entry["issuer"] = parsed->IssuerText();
      entry["key"] = KeyDescription(*parsed);
    }
    list.push_back(std::move(entry));
  }
  const registrar::CertificateForecast& f = page.forecast;
  return JsonResponse(200, Json{{"forecast",
                                 {{"expired", f.expired},
                                  {"within_7_days", f.within_7_days},
                                  {"within_30_days", f.within_30_days},
                                  {"within_90_days", f.within_90_days},
                                  {"live", f.live}}},
                                {"total", page.total},
                                {"offset", offset},
                                {"limit", limit},
                                {"certificates", list}});
}

}  // namespace concierge::api
