#pragma once

#include <string>

#include "common/error.h"
#include "common/json.h"
#include "http/http_message.h"

namespace concierge::api {

// Problem renders an error as RFC 9457 problem details (application/problem+json): a type
// naming the error kind, the status's title, the status, and the error's message as detail.
// status 0 takes the error kind's status.
http::HttpResponse Problem(const Error& error, int status = 0);

// DumpJson renders a document whatever bytes its strings hold, invalid UTF-8 replaced.
std::string DumpJson(const Json& document);

// AddSecurityHeaders sets what every management response carries: a Content-Security-Policy
// allowing scripts and styles from this origin only, no framing, no sniffing, no caching, no
// referrer.
void AddSecurityHeaders(http::HttpResponse& response);

}  // namespace concierge::api
