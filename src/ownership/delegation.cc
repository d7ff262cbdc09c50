#include "ownership/delegation.h"

#include <algorithm>

#include "cose/cbor.h"
#include "cose/sign1.h"
#include "ownership/dates.h"

namespace concierge::ownership {
namespace {

// How far a request's time may be from the site's clock.
constexpr int64_t kFreshnessMillis = int64_t{5} * 60 * 1000;

std::unexpected<Error> Denied(const std::string& message) {
  return MakeError(ErrorCode::kPermissionDenied, message);
}

bool InForce(const Delegation& delegation, int64_t seconds) {
  return delegation.revoked_at == 0 && seconds >= delegation.not_before &&
         seconds < delegation.not_after;
}

// WhyNotInForce names the rule that stops the tenant's most recent delegation.
std::unexpected<Error> WhyNotInForce(const Delegation& latest, int64_t seconds) {
  std::string who = "tenant \"" + latest.tenant + "\"";
  if (latest.revoked_at != 0) {
    return Denied(who + ": delegation revoked at " +
                  FormatRfc3339(FromUnixSeconds(latest.revoked_at)));
  }
  if (seconds >= latest.not_after) {
    return Denied(who + ": delegation expired at " +
                  FormatRfc3339(FromUnixSeconds(latest.not_after)));
  }
  return Denied(who + ": delegation starts at " +
                FormatRfc3339(FromUnixSeconds(latest.not_before)));
}

}  // namespace

std::string_view TenantOperationName(TenantOperation operation) {
  switch (operation) {
    case TenantOperation::kList:
      return "list";
    case TenantOperation::kStatus:
      return "status";
    case TenantOperation::kAudit:
      return "audit";
    case TenantOperation::kTransfer:
      return "transfer";
    case TenantOperation::kDecommission:
      return "decommission";
    case TenantOperation::kReportStolen:
      return "report-stolen";
  }
  return "unknown";
}

bool IsOperating(TenantOperation operation) {
  return operation == TenantOperation::kList || operation == TenantOperation::kStatus ||
         operation == TenantOperation::kAudit;
}

Result<Bytes> SignTenantRequest(const crypto::PrivateKey& key, const TenantRequest& request) {
  cose::CborPtr payload = cose::BuildArray(
      {cose::BuildInt(static_cast<int64_t>(request.operation)).release(),
       cose::BuildText(request.device).release(), cose::BuildInt(request.issued_at).release()});
  ASSIGN_OR_RETURN(Bytes bytes, cose::EncodeCbor(payload.get()));
  ASSIGN_OR_RETURN(Bytes public_key, key.PublicKeyDer());
  cose::SignOptions options;
  options.key_id = crypto::Sha256(public_key);
  return cose::SignSign1(key.get(), bytes, options);
}

Result<SignedTenantRequest> DecodeTenantRequest(ByteSpan bytes) {
  ASSIGN_OR_RETURN_CTX(cose::Sign1 message, cose::DecodeSign1(bytes, cose::TagRule::kRequired),
                       "tenant request");
  if (!message.payload) {
    return MakeError(ErrorCode::kBadFormat, "tenant request: no payload");
  }
  ASSIGN_OR_RETURN(cose::CborPtr payload, cose::DecodeCbor(*message.payload, "tenant request"));
  ASSIGN_OR_RETURN(auto items, cose::ReadArray(payload.get(), "tenant request", 3));
  SignedTenantRequest out;
  ASSIGN_OR_RETURN(int64_t operation, cose::ReadInt(items[0], "tenant request operation"));
  if (operation < 0 || operation > static_cast<int64_t>(TenantOperation::kReportStolen)) {
    return MakeError(ErrorCode::kBadFormat,
                     "tenant request: unknown operation " + std::to_string(operation));
  }
  out.request.operation = static_cast<TenantOperation>(operation);
  ASSIGN_OR_RETURN(out.request.device, cose::ReadText(items[1], "tenant request device"));
  ASSIGN_OR_RETURN(out.request.issued_at, cose::ReadInt(items[2], "tenant request time"));
  RETURN_IF_ERROR(CheckDecodedDate(out.request.issued_at, "tenant request time"));
  out.message = std::move(message);
  return out;
}

Result<TenantDecision> AuthorizeTenant(const std::vector<Delegation>& delegations,
                                       const SignedTenantRequest& signed_request, SystemTime now) {
  const cose::Sign1& message = signed_request.message;
  const Bytes& key_id = message.unprotected_headers.key_id;
  if (key_id.empty()) {
    return Denied("the request does not name its key (COSE kid)");
  }
  // Every delegation of the signing key is the tenant's; the signature is checked once.
  std::vector<const Delegation*> own;
  for (const Delegation& delegation : delegations) {
    if (crypto::Sha256(delegation.tenant_key) == key_id) {
      own.push_back(&delegation);
    }
  }
  if (own.empty()) {
    return Denied("the request is not signed by any tenant this site delegated to");
  }
  ASSIGN_OR_RETURN(auto key, crypto::PublicKeyFromDer(own.front()->tenant_key));
  if (!cose::VerifySign1(message, key.get())) {
    return Denied("the request is not signed by any tenant this site delegated to");
  }
  int64_t seconds = ToUnixSeconds(now);
  const Delegation* in_force = nullptr;
  const Delegation* latest = own.front();
  int64_t last_request_at = 0;
  for (const Delegation* delegation : own) {
    if (in_force == nullptr && InForce(*delegation, seconds)) {
      in_force = delegation;
    }
    if (delegation->not_after > latest->not_after) {
      latest = delegation;
    }
    last_request_at = std::max(last_request_at, delegation->last_request_at);
  }
  if (in_force == nullptr) {
    return WhyNotInForce(*latest, seconds);
  }
  const TenantRequest& request = signed_request.request;
  std::string who = "tenant \"" + in_force->tenant + "\"";
  int64_t millis = ToUnixMillis(now);
  if (request.issued_at < millis - kFreshnessMillis ||
      request.issued_at > millis + kFreshnessMillis) {
    return Denied(who + ": the request is dated more than 5 minutes from the site's clock");
  }
  if (request.issued_at <= last_request_at) {
    return Denied(who + ": replayed request (not newer than the last one)");
  }
  if (!IsOperating(request.operation)) {
    return Denied(who + " may operate devices, not " +
                  std::string(TenantOperationName(request.operation)) +
                  " them: that stays with the owner");
  }
  if (request.operation != TenantOperation::kList && !in_force->devices.contains(request.device)) {
    return Denied(who + ": device " + request.device + " is not delegated to this tenant");
  }
  return TenantDecision{in_force};
}

}  // namespace concierge::ownership
