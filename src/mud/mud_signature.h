#pragma once

#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "crypto/certificate.h"
#include "mud/mud_file.h"

namespace concierge::mud {

// ExpiredSignerPolicy says what to do with a MUD signature whose signer certificate has
// expired since it signed (MUD has no secure timestamp; CiscoDevNet/MUD-Manager issue #35).
enum class ExpiredSignerPolicy {
  kRefuse,            // the default: every certificate must be valid now
  kTrustSigningTime,  // check the chain at the signed signingTime instead, if it is not in
                      // the future; a maker who lets certificates lapse is trusted to have
                      // signed while they were valid
};

struct SignatureCheck {
  // The trust anchors configured for the MUD URL's authority (its maker).
  std::vector<crypto::Certificate> anchors;
  SystemTime now;
  ExpiredSignerPolicy expired_signer = ExpiredSignerPolicy::kRefuse;
};

struct VerifiedSignature {
  crypto::Certificate signer;
  SystemTime checked_at;  // now, or the signing time under kTrustSigningTime
};

// SignatureUrl is where a MUD file's detached signature lives: its mud-signature, or the MUD
// URL with ".json" replaced by (or, without it, followed by) ".p7s" (RFC 8520 §13.2).
std::string SignatureUrl(const MudFile& file);

// VerifyMudSignature checks a detached CMS signature over the exact bytes of a MUD file: the
// signature holds, the signer chains to one of check.anchors, and the signer certificate
// names the MUD URL's host, so one maker cannot sign for another's URLs. Errors are kSecurity
// (kBadFormat for an unparsable signature) and say which check failed.
Result<VerifiedSignature> VerifyMudSignature(ByteSpan mud_bytes, ByteSpan signature_der,
                                             const std::string& mud_url,
                                             const SignatureCheck& check);

}  // namespace concierge::mud
