#include "coap/request_head.h"

#include "coap/coap_codes.h"
#include "coap/libcoap_support.h"

namespace concierge::coap {
namespace {

std::string MethodName(coap_pdu_code_t code) {
  switch (code) {
    case COAP_REQUEST_CODE_GET:
      return "GET";
    case COAP_REQUEST_CODE_POST:
      return "POST";
    case COAP_REQUEST_CODE_PUT:
      return "PUT";
    case COAP_REQUEST_CODE_DELETE:
      return "DELETE";
    default:
      return "OTHER";
  }
}

std::optional<uint16_t> Uint16Option(const coap_pdu_t* pdu, uint16_t number) {
  auto value = UintOption(pdu, number);
  if (!value || *value > 0xffff) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(*value);
}

}  // namespace

RequestHead ReadHead(const coap_pdu_t* request) {
  RequestHead head;
  head.method = MethodName(coap_pdu_get_code(request));
  coap_string_t* path = coap_get_uri_path(request);
  head.has_uri_path = path != nullptr && path->length > 0;
  head.path =
      "/" + (head.has_uri_path ? std::string(reinterpret_cast<const char*>(path->s), path->length)
                               : std::string());
  coap_delete_string(path);
  coap_string_t* query = coap_get_query(request);
  if (query != nullptr) {
    head.query.assign(reinterpret_cast<const char*>(query->s), query->length);
    coap_delete_string(query);
  }
  head.abbreviation = UintOption(request, kUriPathAbbrevOption);
  head.content_format = Uint16Option(request, COAP_OPTION_CONTENT_FORMAT);
  head.accept = Uint16Option(request, COAP_OPTION_ACCEPT);
  head.payload = WholeBody(request);
  return head;
}

Result<RequestHead> ParseDatagram(ByteSpan datagram) {
  StartLibcoap();
  coap_pdu_t* pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_EMPTY_CODE, 0, datagram.size() + 16);
  if (pdu == nullptr) {
    return MakeError(ErrorCode::kInternal, "libcoap: no PDU");
  }
  RequestHead head;
  bool parsed = coap_pdu_parse(COAP_PROTO_UDP, datagram.data(), datagram.size(), pdu) == 1;
  if (parsed) {
    head = ReadHead(pdu);
  }
  coap_delete_pdu(pdu);
  if (!parsed) {
    return MakeError(ErrorCode::kBadFormat, "not a CoAP message");
  }
  return head;
}

Result<ResponseHead> ParseResponse(ByteSpan datagram) {
  StartLibcoap();
  coap_pdu_t* pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_EMPTY_CODE, 0, datagram.size() + 16);
  if (pdu == nullptr) {
    return MakeError(ErrorCode::kInternal, "libcoap: no PDU");
  }
  ResponseHead head;
  bool parsed = coap_pdu_parse(COAP_PROTO_UDP, datagram.data(), datagram.size(), pdu) == 1;
  if (parsed) {
    coap_pdu_code_t code = coap_pdu_get_code(pdu);
    head.code = (code >> 5) * 100 + (code & 0x1f);
    coap_bin_const_t token = coap_pdu_get_token(pdu);
    head.token.assign(token.s, token.s + token.length);
    head.payload = WholeBody(pdu);
  }
  coap_delete_pdu(pdu);
  if (!parsed) {
    return MakeError(ErrorCode::kBadFormat, "not a CoAP message");
  }
  return head;
}

Result<std::string> ResolvePath(const RequestHead& head, const std::vector<Resource>& resources) {
  if (!head.abbreviation) {
    return head.path;
  }
  if (head.has_uri_path) {
    return MakeError(ErrorCode::kBadFormat, "Uri-Path-Abbrev sent with a Uri-Path");
  }
  if (*head.abbreviation == 0) {
    return std::string("/.well-known/core");
  }
  for (const Resource& resource : resources) {
    if (resource.abbreviation == *head.abbreviation) {
      return resource.path;
    }
  }
  return MakeError(ErrorCode::kBadFormat,
                   "Uri-Path-Abbrev " + std::to_string(*head.abbreviation) + " is not served here");
}

}  // namespace concierge::coap
