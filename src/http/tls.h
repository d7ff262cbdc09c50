#pragma once

#include <optional>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "crypto/certificate.h"
#include "crypto/identity.h"
#include "crypto/key.h"

namespace concierge::crypto {

// TLS objects belong to libssl, which only the transports link.
template <>
struct OpenSslDeleter<SSL> {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

template <>
struct OpenSslDeleter<SSL_CTX> {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

}  // namespace concierge::crypto

namespace concierge::http {

// Every TLS context Concierge makes, server or client, follows one policy: Mozilla's
// "intermediate" configuration (version 5.7) without its finite-field DHE suites. TLS 1.3 with
// its three cipher suites, and TLS 1.2 with ECDHE key exchange and AEAD ciphers only (no CBC,
// no SHA-1 MACs, no RSA key transport); groups X25519, P-256 and P-384. docs/tls.md says why.
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr const char* kTls13Ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
inline constexpr const char* kTlsGroups = "X25519:P-256:P-384";

using TlsIdentity = crypto::Credential;

// MakeServerContext builds a TLS 1.2+ server context. With request_client_cert the server asks
// for a client certificate and accepts any: the application decides trust afterwards (a
// BRSKI registrar must see an IDevID before it knows whether the maker is trusted).
Result<crypto::OpenSslPtr<SSL_CTX>> MakeServerContext(const TlsIdentity& identity,
                                                      bool request_client_cert);

// AskForClientCertificates has a server ask for a client certificate issued by one of
// issuers (their names go in the request, so a browser with no such certificate asks its user
// nothing) and accept a connection without one; the application checks what it gets.
Status AskForClientCertificates(SSL_CTX* ctx, const std::vector<crypto::Certificate>& issuers);

// MakeClientContext builds a TLS 1.2+ client context. With anchors empty the server is not
// authenticated (BRSKI's provisional connection); otherwise its chain must end at one of them.
Result<crypto::OpenSslPtr<SSL_CTX>> MakeClientContext(
    const std::optional<TlsIdentity>& identity, const std::vector<crypto::Certificate>& anchors);

// MakeWebClientContext builds a client context that authenticates servers as a browser does,
// against the system's trust store, plus extra_anchors (a site's own CAs).
Result<crypto::OpenSslPtr<SSL_CTX>> MakeWebClientContext(
    const std::vector<crypto::Certificate>& extra_anchors);

// UseIdentity sets one connection's certificate, key and chain.
Status UseIdentity(SSL* ssl, const TlsIdentity& identity);

}  // namespace concierge::http
