#include "crypto/public_key_text.h"

#include "crypto/certificate.h"
#include "crypto/key.h"

namespace concierge::crypto {
namespace {

constexpr std::string_view kBegin = "-----BEGIN PUBLIC KEY-----";
constexpr std::string_view kEnd = "-----END PUBLIC KEY-----";

}  // namespace

std::string KeyName(ByteSpan spki) {
  return "key sha256:" + HexEncode(Sha256(spki)).substr(0, 16);
}

std::string PublicKeyText(ByteSpan spki) {
  std::string pem = std::string(kBegin) + "\n";
  std::string b64 = Base64Encode(spki);
  for (size_t i = 0; i < b64.size(); i += 64) {
    pem += b64.substr(i, 64) + "\n";
  }
  return pem + std::string(kEnd) + "\n";
}

Result<NamedPublicKey> ParsePublicKeyText(std::string_view pem) {
  if (auto begin = pem.find(kBegin); begin != std::string_view::npos) {
    auto end = pem.find(kEnd, begin);
    if (end == std::string_view::npos) {
      return MakeError(ErrorCode::kBadFormat, "unterminated PUBLIC KEY block");
    }
    size_t body = begin + kBegin.size();
    ASSIGN_OR_RETURN(Bytes der, Base64DecodeLenient(pem.substr(body, end - body)));
    ASSIGN_OR_RETURN(auto key, PublicKeyFromDer(der));
    ASSIGN_OR_RETURN(Bytes spki, PublicKeyDer(key.get()));
    std::string name = KeyName(spki);
    return NamedPublicKey{std::move(spki), std::move(name)};
  }
  ASSIGN_OR_RETURN_CTX(auto certificate, Certificate::FromPem(pem),
                       "expected a certificate or a public key, PEM");
  ASSIGN_OR_RETURN(Bytes spki, certificate.PublicKeyDer());
  return NamedPublicKey{std::move(spki), certificate.SubjectText()};
}

}  // namespace concierge::crypto
