#include "mud/mud_signature.h"

#include "crypto/cms.h"

namespace concierge::mud {
namespace {

Result<std::string> HostOf(const std::string& url) {
  constexpr std::string_view kScheme = "https://";
  if (!url.starts_with(kScheme)) {
    return MakeError(ErrorCode::kBadFormat, "MUD URL \"" + url + "\" is not https");
  }
  std::string authority = url.substr(kScheme.size());
  authority = authority.substr(0, authority.find('/'));
  if (auto at = authority.rfind('@'); at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {
    return authority.substr(1, authority.find(']') - 1);
  }
  return authority.substr(0, authority.find(':'));
}

}  // namespace

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
  ASSIGN_OR_RETURN(std::string host, HostOf(mud_url));
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
