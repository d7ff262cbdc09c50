#include "ownership/chain.h"

#include <algorithm>

#include "cose/cbor.h"
#include "cose/sign1.h"
#include "ownership/dates.h"

namespace concierge::ownership {

// What the next entry must satisfy, given the chain before it. Keys are parsed once per chain:
// OpenSSL 3's key decoding costs more than the signature check.
struct Expectation {
  uint64_t index = 0;
  Bytes previous_hash;
  const ChainHeader* header = nullptr;
  const Bytes* owner_key = nullptr;
  int64_t not_before = 0;
  EVP_PKEY* maker = nullptr;
  EVP_PKEY* owner = nullptr;
  EVP_PKEY* masa = nullptr;
};

namespace {

constexpr int64_t kChainVersion = 1;
constexpr size_t kMaxEntries = 4096;
constexpr size_t kMaxChainBytes = size_t{4} << 20;
constexpr size_t kHashSize = 32;

std::unexpected<Error> Invalid(std::string_view message) {
  return MakeError(ErrorCode::kInvalidArgument, "ownership chain: " + std::string(message));
}

std::unexpected<Error> Refused(std::string_view message) {
  return MakeError(ErrorCode::kPermissionDenied, "ownership chain: " + std::string(message));
}

Result<crypto::OpenSslPtr<EVP_PKEY>> PublicKey(ByteSpan der, std::string_view what) {
  auto key = crypto::PublicKeyFromDer(der);
  if (!key) {
    crypto::ClearOpenSslErrors();
    return Invalid(std::string(what) + " is not a public key (" + key.error().message() + ")");
  }
  return key;
}

Result<ChainHeader> DecodeHeader(ByteSpan bytes) {
  ASSIGN_OR_RETURN(cose::CborPtr root, cose::DecodeCbor(bytes, "ownership chain header"));
  ASSIGN_OR_RETURN(auto items, cose::ReadArray(root.get(), "ownership chain header", 5));
  ASSIGN_OR_RETURN(int64_t version, cose::ReadInt(items[0], "header version"));
  if (version != kChainVersion) {
    return Invalid("header version " + std::to_string(version) + " is not 1");
  }
  ChainHeader header;
  ASSIGN_OR_RETURN(header.device_id, cose::ReadText(items[1], "header device id"));
  ASSIGN_OR_RETURN(header.maker, cose::ReadText(items[2], "header maker"));
  ASSIGN_OR_RETURN(header.maker_key, cose::ReadBytes(items[3], "header maker key"));
  ASSIGN_OR_RETURN(header.idevid_hash, cose::ReadBytes(items[4], "header IDevID hash"));
  if (header.device_id.empty()) {
    return Invalid("header device id is empty");
  }
  if (header.idevid_hash.size() != kHashSize) {
    return Invalid("header IDevID hash is not 32 bytes");
  }
  RETURN_IF_ERROR(PublicKey(header.maker_key, "header maker key"));
  return header;
}

Result<Bytes> EncodeHeader(const ChainHeader& header) {
  cose::CborPtr array = cose::BuildArray(
      {cose::BuildInt(kChainVersion).release(), cose::BuildText(header.device_id).release(),
       cose::BuildText(header.maker).release(), cose::BuildBytes(header.maker_key).release(),
       cose::BuildBytes(header.idevid_hash).release()});
  return cose::EncodeCbor(array.get());
}

Result<Bytes> EncodePayload(const ChainEntry& entry) {
  cose::CborPtr array = cose::BuildArray(
      {cose::BuildInt(static_cast<int64_t>(entry.index)).release(),
       cose::BuildBytes(entry.previous_hash).release(), cose::BuildText(entry.device_id).release(),
       cose::BuildBytes(entry.next_owner_key).release(),
       cose::BuildInt(static_cast<int64_t>(entry.kind)).release(),
       cose::BuildInt(entry.issued_at).release()});
  return cose::EncodeCbor(array.get());
}

struct VerifiedEntry {
  ChainEntry entry;
  crypto::OpenSslPtr<EVP_PKEY> next_owner;
};

// ParsedKeys holds the parsed keys a chain check needs.
struct ParsedKeys {
  crypto::OpenSslPtr<EVP_PKEY> maker;
  crypto::OpenSslPtr<EVP_PKEY> owner;  // null while the maker owns
  crypto::OpenSslPtr<EVP_PKEY> masa;
};

Result<ParsedKeys> ParseKeys(const ChainHeader& header,
                             const OwnershipChain::Authorities& authorities) {
  ParsedKeys keys;
  ASSIGN_OR_RETURN(keys.maker, PublicKey(header.maker_key, "header maker key"));
  if (!authorities.masa_key.empty()) {
    ASSIGN_OR_RETURN(keys.masa, PublicKey(authorities.masa_key, "MASA key"));
  }
  return keys;
}

OwnershipChain::Authorities Effective(const OwnershipChain::Authorities& authorities,
                                      const ChainHeader& header) {
  OwnershipChain::Authorities effective = authorities;
  if (effective.masa_is_maker) {
    effective.masa_key = header.maker_key;
  }
  return effective;
}

std::string_view SignerName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kSale:
      return "the maker";
    case EntryKind::kTransfer:
      return "the owner of record";
    case EntryKind::kEscrow:
    case EntryKind::kRelease:
      return "the MASA";
  }
  return "nobody";
}

// RequiredSigner is the key that may sign an entry of this kind at this point.
Result<Bytes> RequiredSigner(EntryKind kind, const Expectation& expected,
                             const OwnershipChain::Authorities& authorities) {
  switch (kind) {
    case EntryKind::kSale:
      if (*expected.owner_key != expected.header->maker_key) {
        return Invalid("entry " + std::to_string(expected.index) +
                       " is a sale, but only the maker sells and it does not own the device");
      }
      return expected.header->maker_key;
    case EntryKind::kTransfer:
      return *expected.owner_key;
    case EntryKind::kEscrow:
    case EntryKind::kRelease:
      if (authorities.masa_key.empty()) {
        return Refused(std::string(EntryKindName(kind)) +
                       " entries need the MASA's key, which was not given");
      }
      return authorities.masa_key;
  }
  return Invalid("unknown entry kind");
}

Result<VerifiedEntry> VerifyEntry(ByteSpan bytes, const Expectation& expected,
                                  const OwnershipChain::Authorities& authorities) {
  std::string name = "entry " + std::to_string(expected.index);
  ASSIGN_OR_RETURN_CTX(cose::Sign1 message, cose::DecodeSign1(bytes, cose::TagRule::kRequired),
                       "ownership chain " + name);
  if (!message.payload) {
    return Invalid(name + " has no payload");
  }
  ASSIGN_OR_RETURN(cose::CborPtr payload, cose::DecodeCbor(*message.payload, name));
  ASSIGN_OR_RETURN(auto items, cose::ReadArray(payload.get(), name, 6));
  ChainEntry entry;
  ASSIGN_OR_RETURN(int64_t index, cose::ReadInt(items[0], name + " index"));
  ASSIGN_OR_RETURN(entry.previous_hash, cose::ReadBytes(items[1], name + " previous hash"));
  ASSIGN_OR_RETURN(entry.device_id, cose::ReadText(items[2], name + " device id"));
  ASSIGN_OR_RETURN(entry.next_owner_key, cose::ReadBytes(items[3], name + " next owner key"));
  ASSIGN_OR_RETURN(int64_t kind, cose::ReadInt(items[4], name + " kind"));
  ASSIGN_OR_RETURN(entry.issued_at, cose::ReadInt(items[5], name + " time"));
  RETURN_IF_ERROR(CheckDecodedDate(entry.issued_at, name + " time"));
  if (index < 0 || static_cast<uint64_t>(index) != expected.index) {
    return Invalid(name + " says it is entry " + std::to_string(index) + " (entries out of order)");
  }
  entry.index = expected.index;
  if (entry.previous_hash != expected.previous_hash) {
    return Invalid(name + " does not follow " +
                   (expected.index == 0 ? std::string("the header")
                                        : "entry " + std::to_string(expected.index - 1)) +
                   " (hash mismatch)");
  }
  if (entry.device_id != expected.header->device_id) {
    return Invalid(name + " names device " + entry.device_id + ", not " +
                   expected.header->device_id);
  }
  if (kind < 0 || kind > static_cast<int64_t>(EntryKind::kRelease)) {
    return Invalid(name + " has unknown kind " + std::to_string(kind));
  }
  entry.kind = static_cast<EntryKind>(kind);
  if (entry.issued_at < expected.not_before) {
    return Invalid(name + " is dated " + FormatRfc3339(FromUnixMillis(entry.issued_at)) +
                   ", before the entry it follows (" +
                   FormatRfc3339(FromUnixMillis(expected.not_before)) + ")");
  }
  ASSIGN_OR_RETURN(auto next_owner, PublicKey(entry.next_owner_key, name + " next owner key"));
  if (entry.kind == EntryKind::kRelease && entry.next_owner_key != expected.header->maker_key) {
    return Invalid(name + " is a release but does not return the device to its maker");
  }
  ASSIGN_OR_RETURN(entry.signer_key, RequiredSigner(entry.kind, expected, authorities));
  EVP_PKEY* signer = entry.kind == EntryKind::kSale       ? expected.maker
                     : entry.kind == EntryKind::kTransfer ? expected.owner
                                                          : expected.masa;
  if (auto verified = cose::VerifySign1(message, signer); !verified) {
    return Refused(name + " (" + std::string(EntryKindName(entry.kind)) + ") is not signed by " +
                   std::string(SignerName(entry.kind)) + ": " + verified.error().message());
  }
  entry.encoded.assign(bytes.begin(), bytes.end());
  return VerifiedEntry{std::move(entry), std::move(next_owner)};
}

}  // namespace

std::string_view EntryKindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kSale:
      return "sale";
    case EntryKind::kTransfer:
      return "transfer";
    case EntryKind::kEscrow:
      return "escrow";
    case EntryKind::kRelease:
      return "release";
  }
  return "unknown";
}

Result<OwnershipChain> OwnershipChain::Start(const ChainHeader& header) {
  ASSIGN_OR_RETURN(Bytes bytes, EncodeHeader(header));
  ASSIGN_OR_RETURN(ChainHeader checked, DecodeHeader(bytes));
  return OwnershipChain(std::move(checked), std::move(bytes));
}

Result<OwnershipChain> OwnershipChain::Decode(ByteSpan bytes, const Authorities& authorities) {
  if (bytes.size() > kMaxChainBytes) {
    return Invalid("larger than 4 MiB");
  }
  ASSIGN_OR_RETURN(cose::CborPtr root, cose::DecodeCbor(bytes, "ownership chain"));
  ASSIGN_OR_RETURN(auto items, cose::ReadArray(root.get(), "ownership chain", 2));
  ASSIGN_OR_RETURN(Bytes header_bytes, cose::ReadBytes(items[0], "ownership chain header"));
  ASSIGN_OR_RETURN(auto entries, cose::ReadArray(items[1], "ownership chain entries"));
  if (entries.size() > kMaxEntries) {
    return Invalid("more than 4096 entries");
  }
  ASSIGN_OR_RETURN(ChainHeader header, DecodeHeader(header_bytes));
  OwnershipChain chain(std::move(header), std::move(header_bytes));
  Authorities effective = Effective(authorities, chain.header_);
  ASSIGN_OR_RETURN(ParsedKeys keys, ParseKeys(chain.header_, effective));
  for (const cbor_item_t* item : entries) {
    ASSIGN_OR_RETURN(Bytes entry_bytes, cose::ReadBytes(item, "ownership chain entry"));
    Expectation expected = chain.Expect(
        keys.maker.get(), keys.owner ? keys.owner.get() : keys.maker.get(), keys.masa.get());
    ASSIGN_OR_RETURN(VerifiedEntry verified, VerifyEntry(entry_bytes, expected, effective));
    chain.entries_.push_back(std::move(verified.entry));
    keys.owner = std::move(verified.next_owner);
  }
  return chain;
}

Status OwnershipChain::Extend(const crypto::PrivateKey& signer, ByteSpan next_owner_key,
                              EntryKind kind, SystemTime at, const Authorities& authorities) {
  if (entries_.size() >= kMaxEntries) {
    return Invalid("already has 4096 entries");
  }
  Authorities effective = Effective(authorities, header_);
  ASSIGN_OR_RETURN(ParsedKeys keys, ParseKeys(header_, effective));
  ASSIGN_OR_RETURN(auto owner, PublicKey(owner_key(), "owner key"));
  Expectation expected = Expect(keys.maker.get(), owner.get(), keys.masa.get());
  ASSIGN_OR_RETURN(Bytes required, RequiredSigner(kind, expected, effective));
  ASSIGN_OR_RETURN(Bytes signer_key, signer.PublicKeyDer());
  if (signer_key != required) {
    return Refused(std::string(EntryKindName(kind)) + " must be signed by " +
                   std::string(SignerName(kind)) + "; the signing key is not theirs");
  }
  ChainEntry entry;
  entry.index = expected.index;
  entry.previous_hash = expected.previous_hash;
  entry.device_id = header_.device_id;
  entry.next_owner_key.assign(next_owner_key.begin(), next_owner_key.end());
  entry.kind = kind;
  entry.issued_at = std::max(ToUnixMillis(at), expected.not_before);
  ASSIGN_OR_RETURN(Bytes payload, EncodePayload(entry));
  ASSIGN_OR_RETURN(Bytes signed_entry, cose::SignSign1(signer.get(), payload));
  // The new entry goes through the same checks a reader applies.
  ASSIGN_OR_RETURN(VerifiedEntry verified, VerifyEntry(signed_entry, expected, effective));
  entries_.push_back(std::move(verified.entry));
  return OkStatus();
}

Result<Bytes> OwnershipChain::Encode() const {
  cose::CborPtr list(cbor_new_definite_array(entries_.size()));
  for (const ChainEntry& entry : entries_) {
    cose::CborPtr bytes = cose::BuildBytes(entry.encoded);
    (void)cbor_array_push(list.get(), bytes.get());
  }
  cose::CborPtr root =
      cose::BuildArray({cose::BuildBytes(header_bytes_).release(), list.release()});
  return cose::EncodeCbor(root.get());
}

const Bytes& OwnershipChain::owner_key() const {
  return entries_.empty() ? header_.maker_key : entries_.back().next_owner_key;
}

bool OwnershipChain::OwnedBy(ByteSpan key) const {
  return std::ranges::equal(owner_key(), key);
}

bool OwnershipChain::IsExtensionOf(const OwnershipChain& earlier) const {
  if (header_bytes_ != earlier.header_bytes_ || entries_.size() < earlier.entries_.size()) {
    return false;
  }
  return std::ranges::equal(
      earlier.entries_, std::span(entries_).first(earlier.entries_.size()),
      [](const ChainEntry& a, const ChainEntry& b) { return a.encoded == b.encoded; });
}

Expectation OwnershipChain::Expect(EVP_PKEY* maker, EVP_PKEY* owner, EVP_PKEY* masa) const {
  return Expectation{entries_.size(),
                     NextPreviousHash(),
                     &header_,
                     &owner_key(),
                     entries_.empty() ? 0 : entries_.back().issued_at,
                     maker,
                     owner,
                     masa};
}

Bytes OwnershipChain::NextPreviousHash() const {
  return crypto::Sha256(entries_.empty() ? header_bytes_ : entries_.back().encoded);
}

}  // namespace concierge::ownership
