// Property: decoding any bytes as an owner's statement (what the MASA receives) or a tenant's
// request (what the site receives) never crashes; what decodes keeps its own bytes (a
// statement) or its payload (a request) and only values the decoders allow; with no
// delegations, no request is authorised.
#include "fuzz/fuzz_check.h"
#include "ownership/delegation.h"
#include "ownership/statement.h"

using namespace concierge;  // NOLINT(google-build-using-namespace): fuzz entry point

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan bytes(data, size);
  if (auto statement = ownership::DecodeStatement(bytes)) {
    FUZZ_CHECK(statement->encoded.size() == size);
    FUZZ_CHECK(statement->statement.action <= ownership::Action::kRelease);
    FUZZ_CHECK(statement->statement.agents.size() <= 32);
  }
  if (auto request = ownership::DecodeTenantRequest(bytes)) {
    FUZZ_CHECK(request->message.payload.has_value());
    FUZZ_CHECK(request->request.operation <= ownership::TenantOperation::kReportStolen);
    FUZZ_CHECK(!ownership::AuthorizeTenant({}, *request, SystemTime{}));
  }
  return 0;
}
