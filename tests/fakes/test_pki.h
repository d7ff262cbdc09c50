#pragma once

#include <string>

#include "common/random.h"
#include "crypto/certificate_builder.h"
#include "http/tls.h"

namespace concierge::testing {

// MakeTestCa makes a self-signed CA valid around now.
inline crypto::KeyAndCertificate MakeTestCa(SystemTime now, const std::string& name = "Test CA") {
  CryptoRandom random;
  auto spec =
      crypto::NewCertificateSpec({name, "", "Test"}, now, std::chrono::hours(24 * 365), random);
  spec.is_ca = true;
  spec.key_usage = "critical,keyCertSign,cRLSign";
  return crypto::IssueWithNewKey(spec, nullptr, nullptr).value();
}

// MakeTestLeaf makes an end-entity certificate issued by ca, valid for validity from now.
inline crypto::KeyAndCertificate MakeTestLeaf(const crypto::KeyAndCertificate& ca, SystemTime now,
                                              std::chrono::hours validity,
                                              const std::string& subject_alt_names = "") {
  CryptoRandom random;
  auto spec = crypto::NewCertificateSpec({"device", "SN-1", "Test"}, now, validity, random);
  spec.subject_alt_names = subject_alt_names;
  spec.ia5_extensions.emplace_back(crypto::kOidMasaUrl, "masa.example:443");
  return crypto::IssueWithNewKey(spec, &ca.certificate, &ca.key).value();
}

// MakeTlsIdentity is a leaf for 127.0.0.1 issued by ca, as a TLS identity.
inline http::TlsIdentity MakeTlsIdentity(const crypto::KeyAndCertificate& ca) {
  auto leaf = MakeTestLeaf(ca, SystemClock().Now(), std::chrono::hours(48), "IP:127.0.0.1");
  return {leaf.certificate, leaf.key, {}};
}

}  // namespace concierge::testing
