#include "http/tls.h"

namespace concierge::http {
namespace {

using crypto::OpenSslError;
using crypto::OpenSslPtr;

Status UseIdentity(SSL_CTX* ctx, const TlsIdentity& identity) {
  if (SSL_CTX_use_certificate(ctx, identity.certificate.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, identity.key.get()) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "loading TLS identity"));
  }
  for (const auto& cert : identity.chain) {
    // add1: the context takes a reference of its own.
    if (SSL_CTX_add1_chain_cert(ctx, cert.get()) != 1) {
      return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "adding TLS chain"));
    }
  }
  return OkStatus();
}

}  // namespace

Status UseIdentity(SSL* ssl, const TlsIdentity& identity) {
  if (SSL_use_certificate(ssl, identity.certificate.get()) != 1 ||
      SSL_use_PrivateKey(ssl, identity.key.get()) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "loading TLS identity"));
  }
  for (const auto& cert : identity.chain) {
    if (SSL_add1_chain_cert(ssl, cert.get()) != 1) {
      return std::unexpected(OpenSslError(ErrorCode::kInvalidArgument, "adding TLS chain"));
    }
  }
  return OkStatus();
}

namespace {

int AcceptAnyCertificate(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) {
  return 1;
}

Status ApplyTlsPolicy(SSL_CTX* ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kTls13Ciphersuites) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kTlsGroups) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "applying the TLS policy"));
  }
  // Renegotiation gives a peer a way to make the other side do handshakes over and over.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  return OkStatus();
}

}  // namespace

Result<OpenSslPtr<SSL_CTX>> MakeServerContext(const TlsIdentity& identity,
                                              bool request_client_cert) {
  OpenSslPtr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "creating TLS server context"));
  }
  RETURN_IF_ERROR(ApplyTlsPolicy(ctx.get()));
  RETURN_IF_ERROR(UseIdentity(ctx.get(), identity));
  if (request_client_cert) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, AcceptAnyCertificate);
  }
  // Session tickets would let a resumed session skip the client certificate the application
  // checks on every connection.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  return ctx;
}

Status AskForClientCertificates(SSL_CTX* ctx, const std::vector<crypto::Certificate>& issuers) {
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, AcceptAnyCertificate);
  for (const crypto::Certificate& issuer : issuers) {
    if (SSL_CTX_add_client_CA(ctx, issuer.get()) != 1) {
      return std::unexpected(OpenSslError(ErrorCode::kInternal, "naming a client CA"));
    }
  }
  return OkStatus();
}

Result<OpenSslPtr<SSL_CTX>> MakeClientContext(const std::optional<TlsIdentity>& identity,
                                              const std::vector<crypto::Certificate>& anchors) {
  OpenSslPtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "creating TLS client context"));
  }
  RETURN_IF_ERROR(ApplyTlsPolicy(ctx.get()));
  if (identity) {
    RETURN_IF_ERROR(UseIdentity(ctx.get(), *identity));
  }
  if (anchors.empty()) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  } else {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    for (const auto& anchor : anchors) {
      X509_STORE_add_cert(store, anchor.get());
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

Result<OpenSslPtr<SSL_CTX>> MakeWebClientContext(
    const std::vector<crypto::Certificate>& extra_anchors) {
  ASSIGN_OR_RETURN(auto ctx, MakeClientContext(std::nullopt, extra_anchors));
  if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
    return std::unexpected(OpenSslError(ErrorCode::kInternal, "loading the system trust store"));
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

}  // namespace concierge::http
