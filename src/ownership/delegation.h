#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "cose/sign1.h"
#include "crypto/key.h"

namespace concierge::ownership {

// What a request about devices asks for. Tenants may operate (list their devices, read a
// device's status and history); transfer, decommission and theft reports stay the owner's.
enum class TenantOperation : uint8_t {
  kList = 0,
  kStatus = 1,
  kAudit = 2,
  kTransfer = 3,
  kDecommission = 4,
  kReportStolen = 5,
};
std::string_view TenantOperationName(TenantOperation operation);
bool IsOperating(TenantOperation operation);

// Delegation lets a tenant key operate some of the site's devices until not_after, unless
// revoked earlier.
struct Delegation {
  int64_t id = 0;
  std::string tenant;
  Bytes tenant_key;  // SubjectPublicKeyInfo DER
  std::set<std::string> devices;
  int64_t not_before = 0;  // Unix seconds
  int64_t not_after = 0;
  int64_t revoked_at = 0;       // 0: not revoked
  int64_t last_request_at = 0;  // the newest request accepted (Unix milliseconds)
};

// TenantRequest is a COSE_Sign1-signed request by a tenant key. issued_at (Unix milliseconds)
// must be within the freshness window of the site's clock and newer than the tenant's last
// request, so a captured request cannot be replayed.
struct TenantRequest {
  TenantOperation operation = TenantOperation::kList;
  std::string device;  // "" for kList
  int64_t issued_at = 0;
};

Result<Bytes> SignTenantRequest(const crypto::PrivateKey& key, const TenantRequest& request);

struct SignedTenantRequest {
  TenantRequest request;
  cose::Sign1 message;  // kid: SHA-256 of the tenant's public key (DER)
};

Result<SignedTenantRequest> DecodeTenantRequest(ByteSpan bytes);

// AuthorizeTenant finds the delegation in force for the key that signed the request and
// decides: the error says which rule refused (no delegation for this key, its latest
// delegation expired, revoked or not yet begun, not this tenant's device, not an operation
// tenants may do, stale or replayed request).
struct TenantDecision {
  const Delegation* delegation = nullptr;
};

Result<TenantDecision> AuthorizeTenant(const std::vector<Delegation>& delegations,
                                       const SignedTenantRequest& request, SystemTime now);

}  // namespace concierge::ownership
