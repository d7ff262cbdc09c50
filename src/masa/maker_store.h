#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "crypto/certificate.h"
#include "crypto/key.h"
#include "store/sqlite.h"

namespace concierge::masa {

struct MintedDevice {
  std::string serial;
  Bytes idevid_der;
  std::string mud_url;
  std::string owner_domain;  // domainID of the pinned owner, "" while unclaimed
  std::string sold_to;       // domainID a sale record allows next, "" if none
};

struct VoucherLogEntry {
  int64_t at = 0;
  std::string domain_id;
  Bytes nonce;  // empty for nonceless
  std::string assertion;
};

// MakerStore is the MASA's SQLite state: minted devices, owners, and the voucher log that
// answers requestauditlog. Every change is an audit event. Thread-safe (one connection, one
// mutex).
class MakerStore {
 public:
  static Result<std::unique_ptr<MakerStore>> Open(const std::filesystem::path& path,
                                                  const Clock& clock);

  Status AddMintedDevice(const crypto::Certificate& idevid, const std::string& mud_url,
                         const crypto::KeyProvenance& provenance);
  Result<std::optional<MintedDevice>> FindDevice(const std::string& serial);

  // RecordSale lets domain_id claim the device next, whoever owns it now.
  Status RecordSale(const std::string& serial, const std::string& domain_id);

  // RecordVoucher enforces the ownership policy and logs the voucher in one transaction: the
  // first claimant becomes the owner; a different domain is refused (kPermissionDenied) unless
  // a sale record names it; a nonce seen before for this device is a replay (kSecurity).
  Status RecordVoucher(const std::string& serial, const std::string& domain_id, const Bytes& nonce,
                       const std::string& assertion);

  Result<std::vector<VoucherLogEntry>> VoucherLog(const std::string& serial);

  store::Database& database() { return db_; }

 private:
  MakerStore(store::Database db, const Clock& clock) : db_(std::move(db)), clock_(clock) {}

  std::mutex mutex_;
  store::Database db_;
  const Clock& clock_;
};

}  // namespace concierge::masa
