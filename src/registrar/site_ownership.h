#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "ownership/delegation.h"
#include "ownership/statement.h"
#include "ownership/transfer.h"
#include "registrar/registrar_service.h"

namespace concierge::registrar {

struct ExportRequest {
  Bytes new_owner_key;               // SubjectPublicKeyInfo DER
  std::string new_owner;             // the new owner's name, for the audit log
  std::string new_registrar_url;     // where the devices are told to enroll next
  std::vector<std::string> serials;  // empty: every enrolled device
};

struct ImportReport {
  int devices = 0;
  std::vector<std::string> makers_added;
};

// SiteOwnership is the site's side of the ownership lifecycle (docs/ownership.md): hand
// devices to a new owner, take devices over from an old one, tell leaving devices where to go,
// end their membership when they confirm, and publish the CRL. The site's owner key is its
// domain CA key. Thread-safe.
class SiteOwnership {
 public:
  SiteOwnership(SiteStore& store, MasaClient& masa, RegistrarService& registrar, const Clock& clock)
      : store_(store), masa_(masa), registrar_(registrar), clock_(clock) {}

  // Export extends each device's chain (fetched from its MASA) to the new owner, records the
  // devices as leaving, and returns the bundle for the new owner. Nothing is recorded unless
  // every device's chain could be extended.
  // `actor` names who asked, in the audit chain.
  Result<ownership::TransferBundle> Export(const ExportRequest& request,
                                           const std::string& actor = "");
  // Import verifies every chain ends at this site's key, trusts the bundle's makers not yet
  // trusted, and records each chain with its MASA.
  Result<ImportReport> Import(const ownership::TransferBundle& bundle);

  // Decommission releases the device at its MASA (its chain returns to the maker, so the next
  // owner can claim it) and tells it to reset; its membership ends when it confirms the reset,
  // or at once with `device_gone` (a dead or lost device). Says what it did.
  Result<std::string> Decommission(const std::string& serial, bool device_gone,
                                   const std::string& actor = "");
  // SubmitStatement signs an owner's statement (report or clear theft, set escrow) about one of
  // this site's devices with the owner key and gives it to the device's MASA.
  Result<std::string> SubmitStatement(const std::string& serial, ownership::Statement statement);

  // Instruction is what the device authenticated by peer should do next, if anything.
  Result<std::optional<ownership::MoveInstruction>> Instruction(const PeerIdentity& peer);
  // ConfirmMove ends a leaving device's membership once it shows an LDevID its new owner
  // issued: its certificates here are revoked.
  Status ConfirmMove(const PeerIdentity& peer, ByteSpan new_ldevid_der);
  // ConfirmReset ends a retiring device's membership: it is about to forget this domain.
  Status ConfirmReset(const PeerIdentity& peer);
  // TenantRequest carries out a tenant's signed request (ownership/delegation.h) if one of
  // the site's delegations allows it, and answers with what the tenant may see.
  Result<Json> TenantRequest(ByteSpan signed_request);
  // Crl is the domain CA's current CRL (DER), valid for a week. The same CRL is served until a
  // certificate is revoked or half its validity has passed, so fetching it writes nothing.
  Result<Bytes> Crl();

  Result<Bytes> OwnerKey() const;

 private:
  Result<DeviceRecord> FindActive(const std::string& serial);

  struct IssuedCrl {
    std::vector<Revocation> revocations;
    SystemTime issued_at;
    Bytes der;
  };

  SiteStore& store_;
  MasaClient& masa_;
  RegistrarService& registrar_;
  const Clock& clock_;
  std::mutex crl_mutex_;
  std::optional<IssuedCrl> crl_;  // guarded by crl_mutex_
};

}  // namespace concierge::registrar
