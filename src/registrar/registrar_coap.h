#pragma once

#include <optional>
#include <string>
#include <vector>

#include "coap/coaps_server.h"
#include "registrar/registrar_service.h"

namespace concierge::registrar {

// RegistrarCoapResources are the registrar's cBRSKI and EST-coaps resources
// (draft-ietf-anima-constrained-voucher-31, RFC 9148) on the same service the HTTPS resources
// use: /.well-known/brski/{rv,vs,es} and /.well-known/est/{crts,sen,sren,att}, each also
// reachable by its Uri-Path-Abbrev value. Vouchers are COSE (content-format 836; 18 and the
// legacy 65502 are accepted and answered in kind); the pledge's request is verified with the
// DTLS client key, whatever certificates it carries.
std::vector<coap::Resource> RegistrarCoapResources(RegistrarService& service);

// RegistrarDiscoveryLinks are what the registrar shows a stranger over plain CoAP: itself as a
// join proxy for pledges one hop away (`<>;brski-jp=PORT`) and, when the address the request
// reached is known, its CoAPS endpoint for stateful join proxies (`rt=brski`) and, when it
// takes JPY, its JPY endpoint for stateless ones (`<jpy://HOST:PORT>;rt=brski.rjp`). Nothing
// else about the site.
std::vector<coap::Resource> RegistrarDiscoveryLinks(const std::optional<std::string>& local_host,
                                                    uint16_t coaps_port,
                                                    std::optional<uint16_t> jpy_port);

}  // namespace concierge::registrar
