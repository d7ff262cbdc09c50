#include "http/http_message.h"

#include <algorithm>

namespace concierge::http {
namespace {

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 409:
      return "Conflict";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 415:
      return "Unsupported Media Type";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

bool SafeHeaderValue(std::string_view value) {
  return value.find_first_of("\r\n") == std::string_view::npos;
}

void AppendHeaders(std::string& out, const Headers& headers, size_t body_size) {
  for (const auto& [name, value] : headers) {
    if (name == "content-length" || !SafeHeaderValue(value)) {
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "content-length: " + std::to_string(body_size) + "\r\n\r\n";
}

}  // namespace

std::string HttpRequest::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

HttpResponse MakeResponse(int status, std::string_view content_type, std::string body) {
  HttpResponse response;
  response.status = status;
  if (!content_type.empty()) {
    response.headers["content-type"] = std::string(content_type);
  }
  response.body = std::move(body);
  return response;
}

HttpResponse MakeErrorResponse(const Error& error) {
  // BRSKI asks for a plain UTF-8 human-readable message in error bodies.
  return MakeResponse(HttpStatusFor(error), "text/plain; charset=utf-8", error.message() + "\n");
}

Error ErrorFromPeerStatus(std::string_view peer, const http::HttpResponse& response) {
  ErrorCode code = ErrorCodeForHttpStatus(response.status);
  std::string body = response.body.substr(0, 512);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) {
    body.pop_back();
  }
  return Error(code, std::string(peer) + " answered " + std::to_string(response.status) +
                         (body.empty() ? "" : ": " + body));
}

std::string SerializeRequest(const HttpRequest& request, std::string_view host) {
  std::string out = request.method + " " + request.target + " HTTP/1.1\r\nhost: ";
  out += host;
  out += "\r\n";
  if (!request.keep_alive) {
    out += "connection: close\r\n";
  }
  AppendHeaders(out, request.headers, request.body.size());
  out += request.body;
  return out;
}

std::string SerializeResponse(const HttpResponse& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " ";
  out += ReasonPhrase(response.status);
  out += "\r\n";
  if (!response.keep_alive) {
    out += "connection: close\r\n";
  }
  AppendHeaders(out, response.headers, response.body.size());
  out += response.body;
  return out;
}

}  // namespace concierge::http
