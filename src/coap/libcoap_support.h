#pragma once

// What the CoAPS server and client share over libcoap; included by this module's sources only.

#include <string>

#include <coap3/coap.h>

#include "common/bytes.h"
#include "common/url.h"
#include "crypto/identity.h"

namespace concierge::coap {

// StartLibcoap initialises libcoap once per process and keeps its log to warnings.
void StartLibcoap();

// CredentialPem is the certificate followed by its chain, as libcoap's PEM buffer takes them.
Result<std::string> CredentialPem(const crypto::Credential& credential);

// ServerPki asks every DTLS peer for a certificate and accepts any: the registrar decides what
// a certificate means (a pledge's IDevID from a maker it trusts, an LDevID it issued).
coap_dtls_pki_t ServerPki(const std::string& certificate_pem, const std::string& key_pem);
// ClientPki presents the pledge's credential and does not verify the server: the first
// connection of a pledge is provisional (RFC 8995 §5.1); the caller checks the server's
// certificate itself when it has anchors.
coap_dtls_pki_t ClientPki(const std::string& certificate_pem, const std::string& key_pem);

Result<coap_address_t> ToCoapAddress(const HostPort& host_port);
Result<uint16_t> EndpointPort(const coap_endpoint_t* endpoint);

// PeerOf is what DTLS authenticated about the session's peer, and its address.
crypto::PeerIdentity PeerOf(const coap_session_t* session);

coap_request_t MethodCode(const std::string& method);

struct RequestHead;
// ReadHead extracts a parsed request's method, path, options and (whole) payload.
RequestHead ReadHead(const coap_pdu_t* request);

}  // namespace concierge::coap
