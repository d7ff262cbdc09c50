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
#include "crypto/key.h"
#include "store/audit_log.h"

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

// ChainSwap replaces a device's stored ownership chain only if it is still `expected` (empty: no
// chain stored yet), so two writers cannot both extend the same chain.
struct ChainSwap {
  Bytes expected;
  Bytes chain;
  std::string event;  // audit event name
  Json details;
  bool release = false;  // the device returns to its maker: no domain is pinned any more
};

// How a voucher's requester was found to own the device.
struct VoucherOwnership {
  bool owner_by_chain = false;          // the ownership chain ends at the requester's key
  std::optional<ChainSwap> chain_swap;  // stored in the same transaction as the voucher
};

struct OwnershipRecord {
  Bytes chain;
  bool stolen = false;
  int64_t last_statement_at = 0;
  Bytes escrow_statement;  // the owner's signed set-escrow statement; empty when none
};

// MakerStore is the MASA's state: minted devices, owners, and the voucher log that
// answers requestauditlog. Every change is an audit event. Thread-safe (one connection, one mutex).
class MakerStore {
 public:
  // Open opens the SQLite database at path, creating it if need be, and migrates it.
  static Result<std::unique_ptr<MakerStore>> Open(const std::filesystem::path& path,
                                                  const Clock& clock);
  // Open migrates a database of any backend and keeps it.
  static Result<std::unique_ptr<MakerStore>> Open(std::unique_ptr<store::Database> db,
                                                  const Clock& clock);

  Status AddMintedDevice(const crypto::Certificate& idevid, const std::string& mud_url,
                         const crypto::KeyProvenance& provenance);
  Result<std::optional<MintedDevice>> FindDevice(const std::string& serial);

  // RecordSale reserves an unclaimed device for domain_id: only it may claim it. An owned device
  // moves only by its owner's transfer, escrow or release.
  Status RecordSale(const std::string& serial, const std::string& domain_id);

  // RecordVoucher enforces the ownership policy and logs the voucher in one transaction: the
  // first claimant becomes the owner (the one a sale record names, if any); a different domain
  // is refused (kPermissionDenied) unless the ownership chain names it; a nonce seen before for
  // this device is a replay (kSecurity).
  Status RecordVoucher(const std::string& serial, const std::string& domain_id, const Bytes& nonce,
                       const std::string& assertion, const VoucherOwnership& ownership = {});

  // Ownership records (ownership_store.cc).
  Result<std::optional<OwnershipRecord>> FindOwnership(const std::string& serial);
  Status SwapChain(const std::string& serial, const ChainSwap& swap);

  // RecordStatement notes an owner's accepted statement: refused as a replay unless `at` is
  // newer than the last; sets the stolen flag or the escrow statement when given. A new escrow
  // statement drops earlier approvals.
  struct StatementEffect {
    std::optional<bool> stolen;
    std::optional<Bytes> escrow_statement;
  };

  Status RecordStatement(const std::string& serial, int64_t at, const StatementEffect& effect,
                         std::string_view event, const Json& details);
  // AddEscrowApproval records (or replaces) one agent's approval; returns how many agents now
  // approve handing the device to new_owner.
  Result<int64_t> AddEscrowApproval(const std::string& serial, ByteSpan agent, ByteSpan new_owner,
                                    int64_t at);

  Result<std::vector<VoucherLogEntry>> VoucherLog(const std::string& serial);

  store::Database& database() { return *db_; }

 private:
  MakerStore(std::unique_ptr<store::Database> db, const Clock& clock)
      : db_(std::move(db)), clock_(clock), audit_(*db_, clock) {}

  Status SwapChainLocked(const std::string& serial, const ChainSwap& swap);

  std::mutex mutex_;
  std::unique_ptr<store::Database> db_;
  const Clock& clock_;
  store::AuditChain audit_;
};

}  // namespace concierge::masa
