#include "coap/coaps_client.h"

#include <functional>

#include <openssl/ssl.h>

#include "coap/libcoap_support.h"

namespace concierge::coap {

class CoapsClient::Impl {
 public:
  explicit Impl(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  ~Impl() {
    if (session_ != nullptr) {
      coap_session_release(session_);
    }
    if (context_ != nullptr) {
      coap_free_context(context_);
    }
  }

  Status Open(const HostPort& server, const crypto::Credential& client);
  Result<ClientResponse> Send(const ClientRequest& request);

  coap_session_t* session() const { return session_; }

 private:
  static int OnEvent(coap_session_t* session, coap_event_t event);
  static coap_response_t OnResponse(coap_session_t* session, const coap_pdu_t* sent,
                                    const coap_pdu_t* received, coap_mid_t id);
  static void OnNack(coap_session_t* session, const coap_pdu_t* sent, coap_nack_reason_t reason,
                     coap_mid_t id);

  static Impl* Of(const coap_session_t* session) {
    return static_cast<Impl*>(coap_get_app_data(coap_session_get_context(session)));
  }

  // RunUntil drives libcoap until done() or the deadline.
  Status RunUntil(const std::function<bool()>& done, const std::string& what);

  std::chrono::milliseconds timeout_;
  coap_context_t* context_ = nullptr;
  coap_session_t* session_ = nullptr;
  std::string certificate_pem_;
  std::string key_pem_;
  bool connected_ = false;
  std::optional<Error> failure_;
  Bytes token_;
  std::optional<ClientResponse> response_;
};

Status CoapsClient::Impl::Open(const HostPort& server, const crypto::Credential& client) {
  StartLibcoap();
  ASSIGN_OR_RETURN(certificate_pem_, CredentialPem(client));
  ASSIGN_OR_RETURN(key_pem_, client.key.ToPem());
  context_ = coap_new_context(nullptr);
  if (context_ == nullptr) {
    return MakeError(ErrorCode::kInternal, "libcoap: no context");
  }
  coap_set_app_data(context_, this);
  coap_context_set_block_mode(context_, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_register_event_handler(context_, &Impl::OnEvent);
  coap_register_response_handler(context_, &Impl::OnResponse);
  coap_register_nack_handler(context_, &Impl::OnNack);
  ASSIGN_OR_RETURN(coap_address_t address, ToCoapAddress(server));
  coap_dtls_pki_t pki = ClientPki(certificate_pem_, key_pem_);
  session_ = coap_new_client_session_pki(context_, nullptr, &address, COAP_PROTO_DTLS, &pki);
  if (session_ == nullptr) {
    return MakeError(ErrorCode::kUnavailable, "cannot start a DTLS session to " + server.host +
                                                  ":" + std::to_string(server.port));
  }
  return RunUntil([this] { return connected_; },
                  "DTLS handshake with " + server.host + ":" + std::to_string(server.port));
}

Status CoapsClient::Impl::RunUntil(const std::function<bool()>& done, const std::string& what) {
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (!done()) {
    if (failure_) {
      Error error = *failure_;
      failure_.reset();
      return std::unexpected(error.WithContext(what));
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return MakeError(ErrorCode::kTimeout,
                       what + ": no answer within " + std::to_string(timeout_.count()) + " ms");
    }
    coap_io_process(context_, static_cast<uint32_t>(std::min<int64_t>(left.count(), 100)));
  }
  return OkStatus();
}

int CoapsClient::Impl::OnEvent(coap_session_t* session, coap_event_t event) {
  Impl* impl = Of(session);
  if (event == COAP_EVENT_DTLS_CONNECTED) {
    impl->connected_ = true;
  } else if (event == COAP_EVENT_DTLS_ERROR || event == COAP_EVENT_DTLS_CLOSED) {
    impl->connected_ = false;
    impl->failure_ = Error(ErrorCode::kUnavailable, "the DTLS session failed or was closed");
  }
  return 0;
}

coap_response_t CoapsClient::Impl::OnResponse(coap_session_t* session, const coap_pdu_t* /*sent*/,
                                              const coap_pdu_t* received, coap_mid_t /*id*/) {
  Impl* impl = Of(session);
  coap_bin_const_t token = coap_pdu_get_token(received);
  if (Bytes(token.s, token.s + token.length) != impl->token_) {
    return COAP_RESPONSE_OK;  // a late answer to an abandoned request
  }
  ClientResponse response;
  coap_pdu_code_t code = coap_pdu_get_code(received);
  response.code = (code >> 5) * 100 + (code & 0x1f);
  if (auto format = UintOption(received, COAP_OPTION_CONTENT_FORMAT); format && *format <= 0xffff) {
    response.content_format = static_cast<uint16_t>(*format);
  }
  response.max_age = UintOption(received, COAP_OPTION_MAXAGE);
  response.payload = WholeBody(received);
  impl->response_ = std::move(response);
  return COAP_RESPONSE_OK;
}

void CoapsClient::Impl::OnNack(coap_session_t* session, const coap_pdu_t* /*sent*/,
                               coap_nack_reason_t reason, coap_mid_t /*id*/) {
  Impl* impl = Of(session);
  impl->failure_ =
      Error(reason == COAP_NACK_TOO_MANY_RETRIES ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
            "the request was not acknowledged (libcoap reason " +
                std::to_string(static_cast<int>(reason)) + ")");
}

Result<ClientResponse> CoapsClient::Impl::Send(const ClientRequest& request) {
  coap_pdu_t* pdu =
      coap_pdu_init(COAP_MESSAGE_CON, static_cast<coap_pdu_code_t>(MethodCode(request.method)),
                    coap_new_message_id(session_), coap_session_max_pdu_size(session_));
  if (pdu == nullptr) {
    return MakeError(ErrorCode::kInternal, "libcoap: no PDU");
  }
  uint8_t token[8];
  size_t token_length = 0;
  coap_session_new_token(session_, &token_length, token);
  coap_add_token(pdu, token_length, token);
  token_.assign(token, token + token_length);
  std::string_view path = request.path;
  while (!path.empty()) {
    path.remove_prefix(path.front() == '/' ? 1 : 0);
    size_t end = path.find('/');
    std::string_view segment = path.substr(0, end);
    coap_add_option(pdu, COAP_OPTION_URI_PATH, segment.size(),
                    reinterpret_cast<const uint8_t*>(segment.data()));
    path = end == std::string_view::npos ? std::string_view() : path.substr(end);
  }
  uint8_t buffer[4];
  if (request.content_format) {
    coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                    coap_encode_var_safe(buffer, sizeof(buffer), *request.content_format), buffer);
  }
  if (request.accept) {
    coap_add_option(pdu, COAP_OPTION_ACCEPT,
                    coap_encode_var_safe(buffer, sizeof(buffer), *request.accept), buffer);
  }
  if (!request.payload.empty()) {
    auto* copy = new Bytes(request.payload);
    coap_add_data_large_request(
        session_, pdu, copy->size(), copy->data(),
        [](coap_session_t*, void* owned) { delete static_cast<Bytes*>(owned); }, copy);
  }
  response_.reset();
  failure_.reset();
  if (coap_send(session_, pdu) == COAP_INVALID_MID) {
    return MakeError(ErrorCode::kUnavailable, "libcoap could not send " + request.path);
  }
  RETURN_IF_ERROR(
      RunUntil([this] { return response_.has_value(); }, request.method + " " + request.path));
  return std::move(*response_);
}

CoapsClient::CoapsClient(std::unique_ptr<Impl> impl, crypto::Certificate server,
                         std::vector<crypto::Certificate> chain)
    : impl_(std::move(impl)),
      server_certificate_(std::move(server)),
      server_chain_(std::move(chain)) {}

CoapsClient::~CoapsClient() = default;

Result<std::unique_ptr<CoapsClient>> CoapsClient::Connect(const HostPort& server,
                                                          const crypto::Credential& client,
                                                          std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>(timeout);
  RETURN_IF_ERROR(impl->Open(server, client));
  crypto::PeerIdentity peer = PeerOf(impl->session());
  if (!peer.certificate) {
    return MakeError(ErrorCode::kSecurity, "the CoAPS server presented no certificate");
  }
  return std::unique_ptr<CoapsClient>(
      new CoapsClient(std::move(impl), std::move(*peer.certificate), std::move(peer.chain)));
}

Result<ClientResponse> CoapsClient::Send(const ClientRequest& request) {
  return impl_->Send(request);
}

}  // namespace concierge::coap
