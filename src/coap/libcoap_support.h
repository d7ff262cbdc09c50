#pragma once

// What the CoAPS server and client share over libcoap; included by this module's sources only.

#include <optional>
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

// HostText is an address's IP as text ("192.0.2.1", "2001:db8::1"; IPv4-mapped as IPv4);
// AddressText adds the port ("[2001:db8::1]:5683").
std::string HostText(const coap_address_t* address);
std::string AddressText(const coap_address_t* address);
// ReachedByMulticast tells whether the session's request was sent to a group.
bool ReachedByMulticast(const coap_session_t* session);
// LocalUriHost is the address a request reached in URI form ("[2001:db8::1]", "192.0.2.1"); for
// a multicast request, an address of the interface it came in on. None when only a wildcard or
// a link-local address is known.
std::optional<std::string> LocalUriHost(const coap_session_t* session);
// MessageSize is a message's CoAP-over-UDP size: header, token, options and payload.
size_t MessageSize(const coap_pdu_t* pdu);

coap_request_t MethodCode(const std::string& method);

// UintOption is the value of a uint option, if the message has it.
std::optional<uint32_t> UintOption(const coap_pdu_t* pdu, uint16_t number);
// WholeBody is a message's payload, all blocks of it (libcoap reassembles them).
Bytes WholeBody(const coap_pdu_t* pdu);

struct RequestHead;
// ReadHead extracts a parsed request's method, path, options and (whole) payload.
RequestHead ReadHead(const coap_pdu_t* request);

}  // namespace concierge::coap
