#pragma once

#include <cstdint>

namespace concierge::coap {

// CoAP content-formats (IANA "CoAP Content-Formats") that Concierge reads or writes.
namespace content_format {
inline constexpr uint16_t kCoseSign1 = 18;      // application/cose; cose-type="cose-sign1"
inline constexpr uint16_t kLinkFormat = 40;     // application/link-format
inline constexpr uint16_t kJson = 50;           // application/json
inline constexpr uint16_t kCbor = 60;           // application/cbor
inline constexpr uint16_t kMultipartCore = 62;  // application/multipart-core
inline constexpr uint16_t kPkcs7CertsOnly = 281;
inline constexpr uint16_t kCsrAttrs = 285;
inline constexpr uint16_t kPkcs10 = 286;
inline constexpr uint16_t kPkixCert = 287;
inline constexpr uint16_t kVoucherCose = 836;          // application/voucher+cose
inline constexpr uint16_t kVoucherCoseLegacy = 65502;  // the IETF 113 hackathon's experiment
}  // namespace content_format

// CoAP option numbers libcoap 4.3.1 does not name.
inline constexpr uint16_t kUriPathAbbrevOption = 13;  // draft-ietf-core-uri-path-abbrev (CPA13)

// Response codes as class * 100 + detail, the way they are written (2.05 is 205).
namespace code {
inline constexpr int kCreated = 201;
inline constexpr int kChanged = 204;
inline constexpr int kContent = 205;
inline constexpr int kBadRequest = 400;
inline constexpr int kUnauthorized = 401;
inline constexpr int kBadOption = 402;
inline constexpr int kForbidden = 403;
inline constexpr int kNotFound = 404;
inline constexpr int kMethodNotAllowed = 405;
inline constexpr int kNotAcceptable = 406;
inline constexpr int kRequestEntityIncomplete = 408;
inline constexpr int kRequestEntityTooLarge = 413;
inline constexpr int kUnsupportedContentFormat = 415;
inline constexpr int kInternalServerError = 500;
inline constexpr int kServiceUnavailable = 503;
inline constexpr int kGatewayTimeout = 504;
}  // namespace code

}  // namespace concierge::coap
