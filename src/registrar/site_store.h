#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "crypto/certificate.h"
#include "ownership/delegation.h"
#include "store/audit_log.h"

namespace concierge::registrar {

enum class Approval { kAuto, kManual };

struct TrustedMaker {
  int64_t id = 0;
  std::string name;
  crypto::Certificate ca;
  Approval approval = Approval::kAuto;
};

// Device states, in the order a device moves through them.
inline constexpr std::string_view kStatePending = "pending";      // waits for an operator
inline constexpr std::string_view kStateApproved = "approved";    // may ask for a voucher
inline constexpr std::string_view kStateVouchered = "vouchered";  // has a voucher, no LDevID
// An LDevID was issued, but the device has not yet shown it holds it: a device can fail or be
// cut off between the registrar's answer and its own store. (Stored as "enrolled"; the device
// queries report "issued" until the certificate is confirmed.)
inline constexpr std::string_view kStateIssued = "issued";
// The device confirmed its LDevID: a successful enrollstatus, or any request authenticated by
// that LDevID (its first use).
inline constexpr std::string_view kStateEnrolled = "enrolled";

// How a device leaves the site. A leaving device (told to move) or a retiring one (told to
// reset) keeps its credentials and policy until it confirms; a device that left has every
// certificate revoked.
inline constexpr std::string_view kDepartureLeaving = "leaving";
inline constexpr std::string_view kDepartureRetiring = "retiring";
inline constexpr std::string_view kDepartureTransferred = "transferred";
inline constexpr std::string_view kDepartureDecommissioned = "decommissioned";

struct Departure {
  int64_t device_id = 0;
  std::string kind;           // one of the kDeparture* names
  std::string registrar_url;  // leaving or transferred: the new owner's registrar
  Bytes chain;                // leaving or transferred: the chain extended to the new owner
  int64_t at = 0;
};

struct Revocation {
  std::string serial;  // certificate serial, lower-case hex
  int64_t revoked_at = 0;

  bool operator==(const Revocation&) const = default;
};

struct DeviceRecord {
  int64_t id = 0;
  int64_t maker_id = 0;
  std::string maker_name;
  std::string serial;
  std::string state;
  std::string masa_url;
  std::string mud_url;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::string ldevid_serial;  // latest certificate, "" if none
  int64_t ldevid_not_after = 0;
  int64_t ldevid_confirmed_at = 0;  // when the device first used it; 0: not yet
  std::string enroll_status;        // "", "ok" or "failed: reason"
  std::string address;              // IP address it last enrolled from, "" if unknown
  std::string departure;            // "" while it belongs here, else a kDeparture* name

  // HoldsLdevid: an LDevID was issued to it, confirmed or not.
  bool HoldsLdevid() const { return state == kStateIssued || state == kStateEnrolled; }

  bool Active() const {
    return departure.empty() || departure == kDepartureLeaving || departure == kDepartureRetiring;
  }
};

// IssuedCertificate is one certificate the site's CA issued, as the inventory lists it.
struct IssuedCertificate {
  std::string serial;  // hex
  std::string device;  // the device's IDevID serial
  std::string kind;    // "ldevid"
  Bytes der;
  int64_t not_after = 0;
  int64_t issued_at = 0;
  int64_t confirmed_at = 0;  // 0: the device has not used it yet
  int64_t revoked_at = 0;    // 0: not revoked
};

// CertificateForecast counts the live (unrevoked) certificates by when they expire.
struct CertificateForecast {
  int64_t expired = 0;
  int64_t within_7_days = 0;
  int64_t within_30_days = 0;
  int64_t within_90_days = 0;
  int64_t live = 0;  // unrevoked and not yet expired
};

struct CertificatePage {
  std::vector<IssuedCertificate> certificates;  // soonest expiry first
  size_t total = 0;
  CertificateForecast forecast;
};

struct SeenDevice {
  int64_t maker_id = 0;
  std::string serial;
  Bytes idevid_der;
  std::string masa_url;
  std::string mud_url;
};

// SiteStore is the site's state: trusted makers, devices, vouchers, certificates,
// telemetry, and the audit chain. Each method is one transaction that appends the audit
// events describing it. Thread-safe.
class SiteStore {
 public:
  // Open opens the SQLite database at path, creating it if need be, and migrates it.
  static Result<std::unique_ptr<SiteStore>> Open(const std::filesystem::path& path,
                                                 const Clock& clock);
  // Open migrates a database of any backend and keeps it.
  static Result<std::unique_ptr<SiteStore>> Open(std::unique_ptr<store::Database> db,
                                                 const Clock& clock);

  Result<int64_t> AddTrustedMaker(const std::string& name, const crypto::Certificate& ca,
                                  Approval approval);
  Result<std::vector<TrustedMaker>> ListMakers();
  // MakersVersion changes whenever the trusted makers change; cheap to ask on every request.
  Result<int64_t> MakersVersion();

  // AddPendingDevice records a device that must wait for an operator (manual approval).
  Result<DeviceRecord> AddPendingDevice(const SeenDevice& seen);
  // ApproveDevice lets a pending device join; actor names who did, for the audit chain.
  Status ApproveDevice(int64_t device_id, const std::string& actor);

  // PledgeNonceUsed tells whether this device already sent this nonce (a replay).
  Result<bool> PledgeNonceUsed(int64_t maker_id, const std::string& serial, const Bytes& nonce);
  // RecordVoucher stores a verified voucher, the nonce it answered (kSecurity if already used)
  // and the device, created on first success, in one transaction: a device whose voucher
  // failed leaves nothing behind.
  Status RecordVoucher(const SeenDevice& seen, const Bytes& voucher_cms, const Bytes& nonce);

  // RecordCertificate stores an issued LDevID, unconfirmed, and revokes the device's earlier
  // certificates that were never confirmed (a retry leaves no second live certificate).
  // address, when known, is where the device enrolled from: its address on the site.
  Status RecordCertificate(int64_t device_id, const crypto::Certificate& certificate,
                           std::string_view kind, const std::string& address = "");
  // ConfirmCertificate records that the device used this certificate (`how`), once, and revokes
  // the device's certificates issued before it: they are superseded. Writes nothing when the
  // certificate was confirmed already.
  Status ConfirmCertificate(const std::string& serial_hex, std::string_view how);
  Status RecordTelemetry(int64_t device_id, std::string_view kind, bool status,
                         const std::string& reason);

  Result<std::optional<DeviceRecord>> FindDevice(int64_t maker_id, const std::string& serial);
  // FindNewestDevice finds the latest onboarding of serial by a maker of that name.
  Result<std::optional<DeviceRecord>> FindNewestDevice(const std::string& maker_name,
                                                       const std::string& serial);
  // FindDeviceByCertificate finds the device an issued certificate belongs to.
  Result<std::optional<DeviceRecord>> FindDeviceByCertificate(const std::string& serial_hex);
  Result<std::vector<DeviceRecord>> ListDevices();
  // Certificates pages the unrevoked certificates expiring before `before` (Unix seconds; 0:
  // any), soonest first, with the forecast at `now`. `only` limits them to these devices.
  Result<CertificatePage> Certificates(int64_t now, int64_t before, size_t offset, size_t limit,
                                       const std::optional<std::vector<std::string>>& only);

  // Departures (site_departures.cc). RecordExport marks an enrolled device as leaving for
  // the new owner's registrar; RecordDeparture ends its membership and revokes its
  // certificates; a new voucher for the device (it came back) clears either.
  // `actor` names who asked, in the audit chain ("" when no person did).
  Status RecordExport(int64_t device_id, const std::string& registrar_url, const Bytes& chain,
                      const std::string& new_owner, const std::string& actor = "");
  // RecordRetiring marks a device decommissioned at its MASA as told to reset.
  Status RecordRetiring(int64_t device_id, const std::string& actor = "");
  Result<std::optional<Departure>> FindDeparture(int64_t device_id);
  Status RecordDeparture(int64_t device_id, std::string_view kind, const std::string& reason,
                         const std::string& actor = "");
  Result<std::vector<Revocation>> ListRevocations();
  Result<bool> IsRevoked(const std::string& serial_hex);
  // Tenants (site_delegations.cc). A delegation lets a tenant key operate the named devices
  // for a time; RecordTenantRequest accepts a request time only if newer than the last.
  Result<int64_t> AddDelegation(const std::string& tenant, const Bytes& tenant_key,
                                const std::vector<std::string>& serials, int64_t not_before,
                                int64_t not_after, const std::string& actor = "");
  Status RevokeDelegation(int64_t id, const std::string& actor = "");
  Result<std::vector<ownership::Delegation>> ListDelegations();
  Status RecordTenantRequest(int64_t id, int64_t issued_at);

  // RecordEvent appends one audit event on its own, for steps whose change is elsewhere (a
  // chain recorded at a MASA, a statement the MASA carried out).
  Status RecordEvent(std::string_view kind, const std::string& subject, const Json& detail);

  // NextCrlNumber counts the CRLs this site issued (RFC 5280 §5.2.3: monotonically increasing).
  Result<int64_t> NextCrlNumber();

  store::Database& database() { return *db_; }

  // The audit chain read under the store's lock: its connection is not for two threads at once.
  // ReadAudit gives events in order (only subject's, when not empty); ReadAuditPage pages them
  // newest first (store/audit_log.h).
  Result<std::vector<store::AuditRecord>> ReadAudit(std::string_view subject = "");
  Result<store::AuditPage> ReadAuditPage(std::string_view subject,
                                         const std::optional<std::vector<std::string>>& within,
                                         size_t offset, size_t limit);

  // ListenToAudit tells listener of every audit event this store commits.
  void ListenToAudit(store::AuditListener* listener) { audit_.Listen(listener); }

 private:
  SiteStore(std::unique_ptr<store::Database> db, const Clock& clock)
      : db_(std::move(db)), clock_(clock), audit_(*db_, clock) {}

  Result<std::optional<DeviceRecord>> QueryOneDevice(std::string_view where, int64_t key,
                                                     std::string_view text_key);
  Status SetState(int64_t device_id, std::string_view state);
  // ActiveDevice finds a device that still belongs here; call with mutex_ held.
  Result<DeviceRecord> ActiveDevice(int64_t device_id);
  Result<int64_t> InsertDevice(const SeenDevice& seen, std::string_view state);
  // DeviceSubjectOf is the audit subject of a device (store::DeviceSubject of its serial).
  Result<std::string> DeviceSubjectOf(int64_t device_id);
  // RevokeCertificates revokes the device's unrevoked certificates matching an SQL condition
  // on the certificates table, except one serial; returns the serials. Call in a transaction.
  Result<Json> RevokeCertificates(int64_t device_id, std::string_view condition, int64_t now,
                                  const std::string& except);

  std::mutex mutex_;
  std::unique_ptr<store::Database> db_;
  const Clock& clock_;
  store::AuditChain audit_;
};

}  // namespace concierge::registrar
