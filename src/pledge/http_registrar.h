#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "http/http_message.h"
#include "pledge/transport.h"

namespace concierge::pledge {

// HttpExchange sends one request over an established session and returns the response.
using HttpExchange = std::function<Result<http::HttpResponse>(const http::HttpRequest&)>;

// MakeHttpRegistrarConnection binds the pledge's typed operations to BRSKI's and EST's HTTP
// resources (RFC 8995 §5, RFC 7030 §4): paths, media types, base64 transfer encoding, 202 with
// Retry-After, and a refusal's status as an error. Every operation completes before it returns.
std::unique_ptr<RegistrarConnection> MakeHttpRegistrarConnection(
    HttpExchange exchange, crypto::Certificate server, std::vector<crypto::Certificate> chain);

}  // namespace concierge::pledge
