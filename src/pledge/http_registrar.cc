#include "pledge/http_registrar.h"

#include <cstdlib>

#include "crypto/cms.h"
#include "voucher/voucher.h"

namespace concierge::pledge {
namespace {

using crypto::Certificate;

constexpr std::string_view kRequestVoucher = "/.well-known/brski/requestvoucher";
constexpr std::string_view kVoucherStatus = "/.well-known/brski/voucher_status";
constexpr std::string_view kEnrollStatus = "/.well-known/brski/enrollstatus";
constexpr std::string_view kCaCerts = "/.well-known/est/cacerts";
constexpr std::string_view kCsrAttrs = "/.well-known/est/csrattrs";
constexpr std::string_view kSimpleEnroll = "/.well-known/est/simpleenroll";
constexpr std::string_view kInstructions = "/.well-known/concierge/instructions";
constexpr std::string_view kMoved = "/.well-known/concierge/moved";
constexpr std::string_view kReset = "/.well-known/concierge/reset";

http::HttpRequest MakeRequest(std::string_view method, std::string_view path,
                              std::string_view content_type, std::string body,
                              std::string_view accept) {
  http::HttpRequest request{std::string(method), std::string(path), {}, std::move(body), true};
  if (!content_type.empty()) {
    request.headers["content-type"] = std::string(content_type);
  }
  if (!accept.empty()) {
    request.headers["accept"] = std::string(accept);
  }
  return request;
}

Result<std::vector<Certificate>> DecodeCertsOnly(const http::HttpResponse& response) {
  ASSIGN_OR_RETURN(Bytes der, Base64DecodeLenient(response.body));
  return crypto::ParseCertsOnly(der);
}

class HttpRegistrarConnection final : public RegistrarConnection {
 public:
  HttpRegistrarConnection(HttpExchange exchange, Certificate server, std::vector<Certificate> chain)
      : exchange_(std::move(exchange)), server_(std::move(server)), chain_(std::move(chain)) {}

  const Certificate& ServerCertificate() const override { return server_; }

  std::vector<Certificate> ServerChain() const override { return chain_; }

  void RequestVoucher(Bytes request, Callback<VoucherReply> done) override {
    done([&]() -> Result<VoucherReply> {
      ASSIGN_OR_RETURN(auto response, Send("POST", kRequestVoucher, voucher::kVoucherCmsMediaType,
                                           ToString(request), voucher::kVoucherCmsMediaType));
      if (response.status == 202) {
        auto seconds = std::atoi(response.Header("retry-after").c_str());
        return VoucherReply{{}, std::chrono::seconds(std::max(seconds, 0))};
      }
      RETURN_IF_ERROR(Expect(200, response));
      return VoucherReply{ToBytes(response.body), std::nullopt};
    }());
  }

  void ReportStatus(voucher::StatusKind kind, const voucher::StatusReport& report,
                    Callback<void> done) override {
    auto path = kind == voucher::StatusKind::kVoucherStatus ? kVoucherStatus : kEnrollStatus;
    done([&]() -> Status {
      ASSIGN_OR_RETURN(auto response, Send("POST", path, "application/json",
                                           voucher::EncodeStatusJson(report), ""));
      return Expect(200, response);
    }());
  }

  void CaCertificates(Callback<std::vector<Certificate>> done) override {
    done(GetCerts(kCaCerts));
  }

  void CsrAttributes(Callback<Bytes> done) override {
    done([&]() -> Result<Bytes> {
      ASSIGN_OR_RETURN(auto response, Send("GET", kCsrAttrs, "", "", ""));
      RETURN_IF_ERROR(Expect(200, response));
      return Base64DecodeLenient(response.body);
    }());
  }

  void SimpleEnroll(Bytes csr_der, Callback<std::vector<Certificate>> done) override {
    done([&]() -> Result<std::vector<Certificate>> {
      ASSIGN_OR_RETURN(auto response, Send("POST", kSimpleEnroll, "application/pkcs10",
                                           Base64Encode(csr_der), ""));
      RETURN_IF_ERROR(Expect(200, response));
      return DecodeCertsOnly(response);
    }());
  }

  void FetchInstruction(Callback<std::optional<ownership::MoveInstruction>> done) override {
    done([&]() -> Result<std::optional<ownership::MoveInstruction>> {
      ASSIGN_OR_RETURN(auto response, Send("GET", kInstructions, "", "", "application/json"));
      if (response.status == 204) {
        return std::nullopt;
      }
      RETURN_IF_ERROR(Expect(200, response));
      ASSIGN_OR_RETURN(auto instruction, ownership::DecodeMoveInstruction(response.body));
      return std::optional(std::move(instruction));
    }());
  }

  void ConfirmMove(const Certificate& new_ldevid, Callback<void> done) override {
    done([&]() -> Status {
      ASSIGN_OR_RETURN(auto response, Send("POST", kMoved, "application/pkix-cert",
                                           ToString(new_ldevid.Der()), ""));
      return Expect(200, response);
    }());
  }

  void ConfirmReset(Callback<void> done) override {
    done([&]() -> Status {
      ASSIGN_OR_RETURN(auto response, Send("POST", kReset, "application/json", "{}", ""));
      return Expect(200, response);
    }());
  }

 private:
  Result<http::HttpResponse> Send(std::string_view method, std::string_view path,
                                  std::string_view content_type, std::string body,
                                  std::string_view accept) {
    return exchange_(MakeRequest(method, path, content_type, std::move(body), accept));
  }

  static Status Expect(int status, const http::HttpResponse& response) {
    if (response.status != status) {
      return std::unexpected(http::ErrorFromPeerStatus("registrar", response));
    }
    return OkStatus();
  }

  Result<std::vector<Certificate>> GetCerts(std::string_view path) {
    ASSIGN_OR_RETURN(auto response, Send("GET", path, "", "", ""));
    RETURN_IF_ERROR(Expect(200, response));
    return DecodeCertsOnly(response);
  }

  HttpExchange exchange_;
  Certificate server_;
  std::vector<Certificate> chain_;
};

}  // namespace

std::unique_ptr<RegistrarConnection> MakeHttpRegistrarConnection(HttpExchange exchange,
                                                                 Certificate server,
                                                                 std::vector<Certificate> chain) {
  return std::make_unique<HttpRegistrarConnection>(std::move(exchange), std::move(server),
                                                   std::move(chain));
}

}  // namespace concierge::pledge
