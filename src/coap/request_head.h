#pragma once

#include <optional>
#include <string>
#include <vector>

#include "coap/coaps_server.h"
#include "common/bytes.h"

namespace concierge::coap {

// RequestHead is what the server reads from a request before any resource sees it.
struct RequestHead {
  std::string method;  // "GET", "POST", "PUT", "DELETE", or "OTHER"
  std::string path;    // "/" joined Uri-Path options ("/" when there are none)
  std::string query;   // Uri-Query options joined with '&'
  bool has_uri_path = false;
  std::optional<uint32_t> abbreviation;  // Uri-Path-Abbrev (option 13)
  std::optional<uint16_t> content_format;
  std::optional<uint16_t> accept;
  Bytes payload;
};

// ParseDatagram reads one CoAP-over-UDP message (RFC 7252 §3) with libcoap's parser, as the
// server's socket hands it over, and extracts its head. For tests and fuzzing.
Result<RequestHead> ParseDatagram(ByteSpan datagram);

// ResponseHead is what a client reads of an answer: its code, token and (whole) payload.
struct ResponseHead {
  int code = 0;  // class * 100 + detail
  Bytes token;
  Bytes payload;
};

// ParseResponse reads one CoAP-over-UDP answer with libcoap's parser.
Result<ResponseHead> ParseResponse(ByteSpan datagram);

// ResolvePath names the resource a request is for: its path, or the path its Uri-Path-Abbrev
// value stands for (0 is /.well-known/core). An unknown value, or an abbreviation together
// with a Uri-Path, is an option the server cannot process: kBadFormat, answered with 4.02.
Result<std::string> ResolvePath(const RequestHead& head, const std::vector<Resource>& resources);

}  // namespace concierge::coap
