#include "joinproxy/jpy.h"

#include "cose/cbor.h"

namespace concierge::joinproxy {
namespace {

void AppendByteStringHead(Bytes& out, size_t length) {
  constexpr uint8_t kByteString = 0x40;
  if (length < 24) {
    out.push_back(static_cast<uint8_t>(kByteString | length));
  } else if (length < 0x100) {
    out.push_back(kByteString | 24);
    out.push_back(static_cast<uint8_t>(length));
  } else if (length < 0x10000) {
    out.push_back(kByteString | 25);
    out.push_back(static_cast<uint8_t>(length >> 8));
    out.push_back(static_cast<uint8_t>(length));
  } else {
    out.push_back(kByteString | 26);
    for (int shift = 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<uint8_t>(length >> shift));
    }
  }
}

}  // namespace

Bytes EncodeJpy(ByteSpan header, ByteSpan content) {
  Bytes out;
  out.reserve(1 + 3 + header.size() + 5 + content.size());
  out.push_back(0x82);  // array of two
  AppendByteStringHead(out, header.size());
  out.insert(out.end(), header.begin(), header.end());
  AppendByteStringHead(out, content.size());
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

Result<JpyMessage> DecodeJpy(ByteSpan datagram) {
  if (datagram.size() > kMaxJpyHeader + kMaxJpyContent + 64) {
    return MakeError(ErrorCode::kBadFormat,
                     "JPY message of " + std::to_string(datagram.size()) +
                         " bytes is over the limit of " +
                         std::to_string(kMaxJpyHeader + kMaxJpyContent + 64));
  }
  ASSIGN_OR_RETURN(cose::CborPtr item, cose::DecodeCbor(datagram, "JPY message"));
  ASSIGN_OR_RETURN(auto elements, cose::ReadArray(item.get(), "JPY message"));
  if (elements.size() < 2) {
    return MakeError(ErrorCode::kBadFormat, "JPY message has " + std::to_string(elements.size()) +
                                                " element(s), needs header and content");
  }
  JpyMessage message;
  ASSIGN_OR_RETURN(message.header, cose::ReadBytes(elements[0], "JPY header"));
  ASSIGN_OR_RETURN(message.content, cose::ReadBytes(elements[1], "JPY content"));
  if (message.header.size() > kMaxJpyHeader) {
    return MakeError(ErrorCode::kBadFormat,
                     "JPY header of " + std::to_string(message.header.size()) +
                         " bytes is over the limit of " + std::to_string(kMaxJpyHeader));
  }
  if (message.content.size() > kMaxJpyContent) {
    return MakeError(ErrorCode::kBadFormat,
                     "JPY content of " + std::to_string(message.content.size()) +
                         " bytes is over the limit of " + std::to_string(kMaxJpyContent));
  }
  return message;
}

}  // namespace concierge::joinproxy
