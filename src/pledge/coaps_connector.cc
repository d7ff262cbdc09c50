#include "pledge/coaps_connector.h"

#include "coap/coap_codes.h"
#include "coap/coaps_client.h"
#include "coap/multipart_core.h"

namespace concierge::pledge {
namespace {

namespace cf = coap::content_format;
using crypto::Certificate;

constexpr uint16_t kDefaultCoapsPort = 5684;

// Failure turns a CoAP error response into the error kind its code means, with the server's
// diagnostic payload.
Error Failure(const std::string& what, const coap::ClientResponse& response) {
  CoapCode code{response.code / 100, response.code % 100};
  std::string detail = ToString(response.payload).substr(0, 512);
  return Error(ErrorCodeForCoapCode(code),
               what + ": registrar answered " + std::to_string(code.code_class) + "." +
                   (code.detail < 10 ? "0" : "") + std::to_string(code.detail) +
                   (detail.empty() ? "" : ": " + detail));
}

// MultipartCertificates reads /crts as application/multipart-core: [287, h'DER', ...].
Result<std::vector<Certificate>> MultipartCertificates(ByteSpan body) {
  ASSIGN_OR_RETURN_CTX(coap::Parts parts, coap::ParseMultipartCore(body), "/crts");
  std::vector<Certificate> certificates;
  for (const auto& [format, der] : parts) {
    if (format != cf::kPkixCert) {
      continue;  // a part this pledge cannot use
    }
    ASSIGN_OR_RETURN_CTX(Certificate cert, Certificate::FromDer(der), "/crts");
    certificates.push_back(std::move(cert));
  }
  return certificates;
}

class CoapsConnection final : public RegistrarConnection {
 public:
  explicit CoapsConnection(std::unique_ptr<coap::CoapsClient> client)
      : client_(std::move(client)) {}

  const Certificate& ServerCertificate() const override { return client_->ServerCertificate(); }

  std::vector<Certificate> ServerChain() const override { return client_->ServerChain(); }

  voucher::Format VoucherFormat() const override { return voucher::Format::kCose; }

  void RequestVoucher(Bytes request, Callback<VoucherReply> done) override {
    auto response = client_->Send(
        {"POST", "/.well-known/brski/rv", cf::kVoucherCose, cf::kVoucherCose, std::move(request)});
    if (!response) {
      done(std::unexpected(response.error()));
    } else if (response->code == coap::code::kServiceUnavailable && response->max_age) {
      done(VoucherReply{{}, std::chrono::seconds(*response->max_age)});
    } else if (response->code / 100 != 2) {
      done(std::unexpected(Failure("/rv", *response)));
    } else {
      done(VoucherReply{std::move(response->payload), std::nullopt});
    }
  }

  void ReportStatus(voucher::StatusKind kind, const voucher::StatusReport& report,
                    Callback<void> done) override {
    std::string path = kind == voucher::StatusKind::kVoucherStatus ? "/.well-known/brski/vs"
                                                                   : "/.well-known/brski/es";
    auto response =
        client_->Send({"POST", path, cf::kCbor, std::nullopt, voucher::EncodeStatusCbor(report)});
    if (!response) {
      done(std::unexpected(response.error()));
    } else if (response->code / 100 != 2) {
      done(std::unexpected(Failure(path, *response)));
    } else {
      done(OkStatus());
    }
  }

  void CaCertificates(Callback<std::vector<Certificate>> done) override {
    auto response =
        client_->Send({"GET", "/.well-known/est/crts", std::nullopt, cf::kMultipartCore});
    if (!response) {
      done(std::unexpected(response.error()));
    } else if (response->code != coap::code::kContent) {
      done(std::unexpected(Failure("/crts", *response)));
    } else {
      done(MultipartCertificates(response->payload));
    }
  }

  // cBRSKI: a constrained pledge SHOULD NOT ask for CSR attributes; it copies its IDevID's
  // subject (draft §"EST-coaps Procedure").
  void CsrAttributes(Callback<Bytes> done) override { done(Bytes{}); }

  void SimpleEnroll(Bytes csr_der, Callback<std::vector<Certificate>> done) override {
    auto response = client_->Send(
        {"POST", "/.well-known/est/sen", cf::kPkcs10, cf::kPkixCert, std::move(csr_der)});
    if (!response) {
      done(std::unexpected(response.error()));
      return;
    }
    if (response->code / 100 != 2) {
      done(std::unexpected(Failure("/sen", *response)));
      return;
    }
    auto cert = Certificate::FromDer(response->payload);
    if (!cert) {
      done(std::unexpected(cert.error().WithContext("/sen")));
      return;
    }
    done(std::vector<Certificate>{std::move(*cert)});
  }

  void FetchInstruction(Callback<std::optional<ownership::MoveInstruction>> done) override {
    done(MakeError(ErrorCode::kFailedPrecondition,
                   "ownership instructions are offered over HTTPS only (docs/ownership.md)"));
  }

  void ConfirmMove(const Certificate&, Callback<void> done) override {
    done(MakeError(ErrorCode::kFailedPrecondition, "moves are confirmed over HTTPS only"));
  }

  void ConfirmReset(Callback<void> done) override {
    done(MakeError(ErrorCode::kFailedPrecondition, "resets are confirmed over HTTPS only"));
  }

 private:
  std::unique_ptr<coap::CoapsClient> client_;
};

}  // namespace

CoapsConnector::CoapsConnector(HostPort registrar, std::chrono::milliseconds timeout)
    : registrar_(std::move(registrar)), timeout_(timeout) {}

void CoapsConnector::Open(const crypto::Credential& client, const std::vector<Certificate>& anchors,
                          Callback<std::unique_ptr<RegistrarConnection>> done) {
  auto session = coap::CoapsClient::Connect(registrar_, client, timeout_);
  if (!session) {
    done(std::unexpected(session.error()));
    return;
  }
  if (!anchors.empty()) {
    auto trusted = crypto::VerifyChain((*session)->ServerCertificate(), (*session)->ServerChain(),
                                       anchors, {.at = SystemClock().Now(), .allow_partial = true});
    if (!trusted) {
      done(std::unexpected(trusted.error().WithContext("registrar certificate")));
      return;
    }
  }
  done(std::unique_ptr<RegistrarConnection>(new CoapsConnection(std::move(*session))));
}

Result<HostPort> ParseCoapsUrl(std::string_view url) {
  constexpr std::string_view kScheme = "coaps://";
  if (!url.starts_with(kScheme)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "registrar URL \"" + std::string(url) + "\": expected coaps://HOST[:PORT]");
  }
  std::string_view rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find('/'));
  HostPort result{std::string(rest), kDefaultCoapsPort};
  size_t colon = rest.rfind(':');
  bool bracketed = !rest.empty() && rest.front() == '[';
  size_t close = rest.find(']');
  if (colon != std::string_view::npos &&
      (!bracketed || (close != std::string_view::npos && colon > close))) {
    result.host = std::string(rest.substr(0, colon));
    int port = std::atoi(std::string(rest.substr(colon + 1)).c_str());
    if (port <= 0 || port > 65535) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "registrar URL \"" + std::string(url) + "\": bad port");
    }
    result.port = static_cast<uint16_t>(port);
  }
  if (result.host.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "registrar URL \"" + std::string(url) + "\": no host");
  }
  return result;
}

}  // namespace concierge::pledge
