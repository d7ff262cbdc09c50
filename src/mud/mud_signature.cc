#include "mud/mud_signature.h"

#include "common/url.h"
#include "crypto/cms.h"

namespace concierge::mud {
namespace {}  // namespace

std::string SignatureUrl(const MudFile& file) {
  if (!file.mud_signature.empty()) {
    return file.mud_signature;
  }
  std::string url = file.mud_url;
  if (url.ends_with(".json")) {
    url.resize(url.size() - 5);
  }
  return url + ".p7s";
}

Result<VerifiedSignature> VerifyMudSignature(ByteSpan mud_bytes, ByteSpan signature_der,
                                             const std::string& mud_url,
                                             const SignatureCheck& check) {
  ASSIGN_OR_RETURN_CTX(auto signature, crypto::CmsVerifyDetached(mud_bytes, signature_der),
                       "MUD signature");
  ASSIGN_OR_RETURN_CTX(Url url, ParseHttpsUrl(mud_url), "MUD URL");
  const std::string& host = url.host;
  if (!signature.signer.MatchesHost(host)) {
    return MakeError(ErrorCode::kSecurity, "MUD signer \"" + signature.signer.SubjectText() +
                                               "\" is not bound to " + host +
                                               ", the MUD URL's host");
  }
  auto now_check = crypto::VerifyChain(signature.signer, signature.certificates, check.anchors,
                                       {.at = check.now});
  if (now_check) {
    return VerifiedSignature{signature.signer, check.now};
  }
  bool may_use_signing_time = check.expired_signer == ExpiredSignerPolicy::kTrustSigningTime &&
                              signature.signing_time && *signature.signing_time <= check.now;
  if (!may_use_signing_time) {
    return std::unexpected(now_check.error().WithContext("MUD signer"));
  }
  RETURN_IF_ERROR_CTX(crypto::VerifyChain(signature.signer, signature.certificates, check.anchors,
                                          {.at = *signature.signing_time}),
                      "MUD signer at its signing time " + FormatRfc3339(*signature.signing_time));
  return VerifiedSignature{signature.signer, *signature.signing_time};
}

}  // namespace concierge::mud
