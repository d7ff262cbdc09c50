// Operators' client certificates, for scripts that use the management API.
#include "crypto/certificate_builder.h"
#include "site/site.h"

namespace concierge::site {

Result<crypto::KeyAndCertificate> Site::IssueOperatorCertificate(const std::string& name,
                                                                 std::chrono::seconds validity,
                                                                 const std::string& actor) {
  ASSIGN_OR_RETURN(operators::OperatorDesk * desk, Operators());
  const registrar::RegistrarIdentity& identity = directory_.identity;
  crypto::CertificateSpec spec = crypto::NewCertificateSpec(
      {name, "", identity.site_name + " operators"}, clock_.Now(), validity, random_);
  spec.key_usage = "critical,digitalSignature";
  spec.extended_key_usage = "clientAuth";
  ASSIGN_OR_RETURN(crypto::KeyAndCertificate issued,
                   crypto::IssueWithNewKey(spec, &identity.domain_ca, &identity.domain_ca_key));
  // Until the desk binds it, the certificate signs nobody in.
  RETURN_IF_ERROR(desk->BindCertificate(name, issued.certificate.SerialHex(),
                                        issued.certificate.NotAfter(), actor));
  return issued;
}

}  // namespace concierge::site
