#pragma once

#include "http/http_message.h"
#include "http/https_server.h"
#include "registrar/registrar_service.h"
#include "registrar/site_ownership.h"

namespace concierge::registrar {

// HandleRegistrarRequest maps the BRSKI and EST resources (RFC 8995 §5, RFC 7030 §4) onto
// RegistrarService: media types, base64 transfer encoding, and errors to HTTP statuses.
http::HttpResponse HandleRegistrarRequest(RegistrarService& service,
                                          const http::HttpRequest& request,
                                          const http::ConnectionInfo& connection);

// HandleSiteRequest adds the site's own device resources to the registrar's:
// GET /.well-known/concierge/instructions (LDevID: what to do next; 204 when nothing),
// POST /.well-known/concierge/moved (LDevID; body: the new LDevID, application/pkix-cert),
// POST /.well-known/concierge/reset (LDevID of a device told to reset, about to forget us),
// POST /.well-known/concierge/tenant (a tenant's signed request, application/cose),
// GET /.well-known/concierge/crl (the domain CA's CRL, application/pkix-crl).
http::HttpResponse HandleSiteRequest(RegistrarService& service, SiteOwnership& ownership,
                                     const http::HttpRequest& request,
                                     const http::ConnectionInfo& connection);

// HandleSiteRequestAsync is HandleSiteRequest for a server that answers later: a voucher
// request's call to the MASA holds no worker while the MASA thinks.
void HandleSiteRequestAsync(RegistrarService& service, SiteOwnership& ownership,
                            const http::HttpRequest& request,
                            const http::ConnectionInfo& connection, const http::Respond& respond);

}  // namespace concierge::registrar
