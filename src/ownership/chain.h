#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "crypto/key.h"

namespace concierge::ownership {

// How an entry moved the device.
enum class EntryKind : uint8_t {
  kSale = 0,      // the maker hands the device to an owner (first, or after a release)
  kTransfer = 1,  // the owner of record hands it on
  kEscrow = 2,    // the MASA hands it on, on the owner's escrow agents' approvals
  kRelease = 3,   // the MASA returns it to the maker after decommissioning
};
std::string_view EntryKindName(EntryKind kind);

struct Expectation;  // what the next entry must satisfy (chain.cc)

// ChainHeader names the device and the maker key every chain starts from (FDO's OVHeader).
struct ChainHeader {
  std::string device_id;
  std::string maker;
  Bytes maker_key;    // SubjectPublicKeyInfo DER
  Bytes idevid_hash;  // SHA-256 of the IDevID certificate DER
};

// ChainEntry is one signed hand-over: the signer (the owner of record, or the MASA for escrow
// and release) signs the hash of what came before and the next owner's key.
struct ChainEntry {
  uint64_t index = 0;
  Bytes previous_hash;  // SHA-256 of the header (entry 0) or of the previous entry's COSE bytes
  std::string device_id;
  Bytes next_owner_key;  // SubjectPublicKeyInfo DER
  EntryKind kind = EntryKind::kTransfer;
  int64_t issued_at = 0;  // Unix milliseconds (ownership/dates.h)
  Bytes signer_key;       // who signed it (not encoded: recovered while verifying)
  Bytes encoded;          // the tagged COSE_Sign1
};

// OwnershipChain is a device's ownership record: a header and a hash-linked list of entries,
// each COSE_Sign1-signed. Decode verifies every link; Extend signs a new one. The encoding is
// the CBOR array [header bytes, [entry bytes...]].
class OwnershipChain {
 public:
  // The MASA may sign escrow and release entries; its key, when known, is accepted for those.
  struct Authorities {
    Bytes masa_key;  // SubjectPublicKeyInfo DER; empty: escrow and release entries are refused
    // The maker's MASA signs with the maker key (as Concierge's does): take the header's key.
    bool masa_is_maker = false;
  };

  static Result<OwnershipChain> Start(const ChainHeader& header);
  static Result<OwnershipChain> Decode(ByteSpan bytes, const Authorities& authorities);

  // Extend appends an entry signed by `signer`, which must be the owner of record (or the MASA,
  // for escrow and release). The chain is unchanged when it fails.
  Status Extend(const crypto::PrivateKey& signer, ByteSpan next_owner_key, EntryKind kind,
                SystemTime at, const Authorities& authorities);

  Result<Bytes> Encode() const;

  const ChainHeader& header() const { return header_; }

  const std::vector<ChainEntry>& entries() const { return entries_; }

  // The owner of record: the last entry's next owner, or the maker.
  const Bytes& owner_key() const;
  bool OwnedBy(ByteSpan key) const;
  // IsExtensionOf: this chain starts with every entry of `earlier` (a newer copy of it).
  bool IsExtensionOf(const OwnershipChain& earlier) const;

 private:
  OwnershipChain(ChainHeader header, Bytes header_bytes)
      : header_(std::move(header)), header_bytes_(std::move(header_bytes)) {}

  Bytes NextPreviousHash() const;
  Expectation Expect(EVP_PKEY* maker, EVP_PKEY* owner, EVP_PKEY* masa) const;

  ChainHeader header_;
  Bytes header_bytes_;
  std::vector<ChainEntry> entries_;
};

}  // namespace concierge::ownership
