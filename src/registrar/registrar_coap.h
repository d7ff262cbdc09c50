#pragma once

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

}  // namespace concierge::registrar
