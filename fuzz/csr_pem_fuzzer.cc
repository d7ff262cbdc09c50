// Property: a CSR that parses re-encodes; PEM bundles that parse re-encode to the same DER.
#include <string_view>

#include "crypto/certificate_builder.h"
#include "fuzz/fuzz_check.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan input(data, size);
  if (auto csr = crypto::Csr::FromDer(input)) {
    (void)csr->VerifySelfSignature();
    (void)csr->SubjectSerialNumber();
    (void)csr->SubjectText();
  }
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto chain = crypto::Certificate::FromPemChain(text)) {
    for (const auto& cert : *chain) {
      auto again = crypto::Certificate::FromDer(cert.Der());
      FUZZ_CHECK(again.has_value());
      FUZZ_CHECK(again->Der() == cert.Der());
      (void)cert.Ia5Extension(crypto::kOidMasaUrl);
      (void)cert.SubjectSerialNumber();
    }
  }
  if (auto cert = crypto::Certificate::FromDer(input)) {
    FUZZ_CHECK(crypto::Certificate::FromPem(cert->Pem()).has_value());
  }
  return 0;
}
