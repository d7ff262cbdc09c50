#pragma once

#include "http/http_message.h"
#include "http/https_server.h"
#include "registrar/registrar_service.h"

namespace concierge::registrar {

// HandleRegistrarRequest maps the BRSKI and EST resources (RFC 8995 §5, RFC 7030 §4) onto
// RegistrarService: media types, base64 transfer encoding, and errors to HTTP statuses.
http::HttpResponse HandleRegistrarRequest(RegistrarService& service,
                                          const http::HttpRequest& request,
                                          const http::ConnectionInfo& connection);

}  // namespace concierge::registrar
