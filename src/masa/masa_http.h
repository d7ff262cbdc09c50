#pragma once

#include "http/http_message.h"
#include "http/https_server.h"
#include "masa/masa_service.h"

namespace concierge::masa {

// HandleMasaRequest serves /.well-known/brski/requestvoucher and /requestauditlog, and the
// ownership endpoints under /ownership/ (chain, statement).
http::HttpResponse HandleMasaRequest(MasaService& service, const http::HttpRequest& request,
                                     const http::ConnectionInfo& connection);

}  // namespace concierge::masa
