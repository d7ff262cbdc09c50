// The ownership chain: each hand-over signed by the owner of record over the previous entry's
// hash and the next owner's key; forged, reordered, spliced and tampered chains are refused.
#include <functional>
#include <limits>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "cose/cbor.h"
#include "cose/sign1.h"
#include "ownership/chain.h"

namespace concierge::ownership {
namespace {

using crypto::PrivateKey;

Bytes PublicDer(const PrivateKey& key) {
  return key.PublicKeyDer().value();
}

class OwnershipChainTest : public ::testing::Test {
 protected:
  OwnershipChainTest()
      : maker_(PrivateKey::GenerateP256().value()),
        masa_(PrivateKey::GenerateP256().value()),
        alice_(PrivateKey::GenerateP256().value()),
        bob_(PrivateKey::GenerateP256().value()),
        mallory_(PrivateKey::GenerateP256().value()) {
    authorities_.masa_key = PublicDer(masa_);
  }

  OwnershipChain NewChain(const std::string& device = "LIFT-0001") {
    ChainHeader header{device, "Acme Lifts", PublicDer(maker_), crypto::Sha256(ToBytes(device))};
    return OwnershipChain::Start(header).value();
  }

  // maker -> alice -> bob
  OwnershipChain SoldToAliceThenBob() {
    OwnershipChain chain = NewChain();
    EXPECT_TRUE(chain.Extend(maker_, PublicDer(alice_), EntryKind::kSale, At(100), authorities_));
    EXPECT_TRUE(chain.Extend(alice_, PublicDer(bob_), EntryKind::kTransfer, At(200), authorities_));
    return chain;
  }

  static SystemTime At(int64_t seconds) { return FromUnixSeconds(1'800'000'000 + seconds); }

  // Rewrites a chain's list of entry encodings, as an attacker editing the bytes would.
  static Bytes Rewrite(const OwnershipChain& chain,
                       const std::function<void(std::vector<Bytes>&)>& edit) {
    Bytes encoded = chain.Encode().value();
    cose::CborPtr root = cose::DecodeCbor(encoded, "chain").value();
    auto items = cose::ReadArray(root.get(), "chain", 2).value();
    Bytes header = cose::ReadBytes(items[0], "header").value();
    std::vector<Bytes> entries;
    std::span<cbor_item_t*> list = cose::ReadArray(items[1], "entries").value();
    for (cbor_item_t* item : list) {
      entries.push_back(cose::ReadBytes(item, "entry").value());
    }
    edit(entries);
    cose::CborPtr rebuilt_list(cbor_new_definite_array(entries.size()));
    for (const Bytes& entry : entries) {
      cose::CborPtr bytes = cose::BuildBytes(entry);
      (void)cbor_array_push(rebuilt_list.get(), bytes.get());
    }
    cose::CborPtr rebuilt =
        cose::BuildArray({cose::BuildBytes(header).release(), rebuilt_list.release()});
    return cose::EncodeCbor(rebuilt.get()).value();
  }

  std::string Refusal(ByteSpan bytes) {
    auto decoded = OwnershipChain::Decode(bytes, authorities_);
    return decoded ? "accepted" : decoded.error().message();
  }

  PrivateKey maker_, masa_, alice_, bob_, mallory_;
  OwnershipChain::Authorities authorities_;
};

TEST_F(OwnershipChainTest, HandOversRoundTripAndEndAtTheLastOwner) {
  OwnershipChain chain = SoldToAliceThenBob();
  EXPECT_TRUE(chain.OwnedBy(PublicDer(bob_)));
  auto decoded = OwnershipChain::Decode(chain.Encode().value(), authorities_);
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  ASSERT_EQ(decoded->entries().size(), 2u);
  EXPECT_EQ(decoded->entries()[0].kind, EntryKind::kSale);
  EXPECT_EQ(decoded->entries()[0].signer_key, PublicDer(maker_));
  EXPECT_EQ(decoded->entries()[1].signer_key, PublicDer(alice_));
  EXPECT_TRUE(decoded->OwnedBy(PublicDer(bob_)));
  EXPECT_FALSE(decoded->OwnedBy(PublicDer(alice_)));
  EXPECT_EQ(decoded->header().device_id, "LIFT-0001");
  EXPECT_TRUE(decoded->IsExtensionOf(chain));
}

TEST_F(OwnershipChainTest, OnlyTheOwnerOfRecordCanHandOn) {
  OwnershipChain chain = SoldToAliceThenBob();
  auto reclaimed =
      chain.Extend(alice_, PublicDer(alice_), EntryKind::kTransfer, At(300), authorities_);
  ASSERT_FALSE(reclaimed);
  EXPECT_NE(reclaimed.error().message().find("owner of record"), std::string::npos);
  EXPECT_EQ(reclaimed.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(chain.entries().size(), 2u) << "a refused step changes nothing";
  auto resold = chain.Extend(maker_, PublicDer(mallory_), EntryKind::kSale, At(300), authorities_);
  ASSERT_FALSE(resold);
  EXPECT_NE(resold.error().message().find("only the maker sells"), std::string::npos);
  EXPECT_TRUE(chain.OwnedBy(PublicDer(bob_)));
}

TEST_F(OwnershipChainTest, ForgedReorderedSplicedAndTamperedChainsAreRefused) {
  OwnershipChain chain = SoldToAliceThenBob();
  ASSERT_TRUE(chain.Extend(bob_, PublicDer(mallory_), EntryKind::kTransfer, At(300), authorities_));

  Bytes reordered = Rewrite(chain, [](auto& entries) { std::swap(entries[1], entries[2]); });
  EXPECT_NE(Refusal(reordered).find("entries out of order"), std::string::npos);

  Bytes dropped = Rewrite(chain, [](auto& entries) { entries.erase(entries.begin() + 1); });
  EXPECT_NE(Refusal(dropped).find("out of order"), std::string::npos);

  Bytes forged_signature = Rewrite(chain, [](auto& entries) { entries[2].back() ^= 0x01; });
  EXPECT_NE(
      Refusal(forged_signature).find("entry 2 (transfer) is not signed by the owner of record"),
      std::string::npos);

  // Mallory signs a hand-over to herself from Alice's position, with her own key.
  OwnershipChain other = NewChain();
  ASSERT_TRUE(other.Extend(maker_, PublicDer(mallory_), EntryKind::kSale, At(100), authorities_));
  ASSERT_TRUE(
      other.Extend(mallory_, PublicDer(mallory_), EntryKind::kTransfer, At(150), authorities_));
  Bytes spliced = Rewrite(chain, [&](auto& entries) { entries[1] = other.entries()[1].encoded; });
  EXPECT_NE(Refusal(spliced).find("hash mismatch"), std::string::npos);

  OwnershipChain elsewhere = NewChain("LIFT-0002");
  ASSERT_TRUE(elsewhere.Extend(maker_, PublicDer(alice_), EntryKind::kSale, At(100), authorities_));
  Bytes other_device =
      Rewrite(chain, [&](auto& entries) { entries[0] = elsewhere.entries()[0].encoded; });
  EXPECT_NE(Refusal(other_device).find("hash mismatch"), std::string::npos);

  Bytes truncated = chain.Encode().value();
  truncated.resize(truncated.size() - 3);
  EXPECT_NE(Refusal(truncated).find("malformed CBOR"), std::string::npos);
  EXPECT_EQ(Refusal(chain.Encode().value()), "accepted");
}

TEST_F(OwnershipChainTest, EscrowAndReleaseNeedTheMasa) {
  OwnershipChain chain = SoldToAliceThenBob();
  OwnershipChain::Authorities none;
  auto without = chain.Extend(masa_, PublicDer(mallory_), EntryKind::kEscrow, At(300), none);
  ASSERT_FALSE(without);
  EXPECT_NE(without.error().message().find("need the MASA's key"), std::string::npos);
  auto by_owner =
      chain.Extend(bob_, PublicDer(mallory_), EntryKind::kEscrow, At(300), authorities_);
  ASSERT_FALSE(by_owner);
  ASSERT_TRUE(chain.Extend(masa_, PublicDer(alice_), EntryKind::kEscrow, At(300), authorities_));
  EXPECT_TRUE(chain.OwnedBy(PublicDer(alice_)));
  Bytes encoded = chain.Encode().value();
  EXPECT_FALSE(OwnershipChain::Decode(encoded, none));
  EXPECT_TRUE(OwnershipChain::Decode(encoded, authorities_));

  auto wrong_release =
      chain.Extend(masa_, PublicDer(bob_), EntryKind::kRelease, At(400), authorities_);
  ASSERT_FALSE(wrong_release);
  EXPECT_NE(wrong_release.error().message().find("return the device to its maker"),
            std::string::npos);
  ASSERT_TRUE(chain.Extend(masa_, PublicDer(maker_), EntryKind::kRelease, At(400), authorities_));
  EXPECT_TRUE(chain.OwnedBy(PublicDer(maker_)));
  // Released, the device can be sold again; the chain keeps its whole history.
  ASSERT_TRUE(chain.Extend(maker_, PublicDer(bob_), EntryKind::kSale, At(500), authorities_));
  EXPECT_TRUE(OwnershipChain::Decode(chain.Encode().value(), authorities_));
  EXPECT_EQ(chain.entries().size(), 5u);
}

// An entry signed by hand, as a peer with its own encoder could: [index, previous hash, device,
// next owner, kind, issued-at].
Bytes HandMadeEntry(const OwnershipChain& chain, const PrivateKey& signer, ByteSpan next_owner,
                    int64_t issued_at) {
  const Bytes& previous = chain.entries().back().encoded;
  cose::CborPtr payload = cose::BuildArray(
      {cose::BuildInt(static_cast<int64_t>(chain.entries().size())).release(),
       cose::BuildBytes(crypto::Sha256(previous)).release(),
       cose::BuildText(chain.header().device_id).release(), cose::BuildBytes(next_owner).release(),
       cose::BuildInt(static_cast<int64_t>(EntryKind::kTransfer)).release(),
       cose::BuildInt(issued_at).release()});
  return cose::SignSign1(signer.get(), cose::EncodeCbor(payload.get()).value()).value();
}

TEST_F(OwnershipChainTest, EntriesAreDatedInMillisecondsWithinYears0000To9999) {
  OwnershipChain chain = SoldToAliceThenBob();
  EXPECT_EQ(chain.entries()[0].issued_at, ToUnixMillis(At(100)));
  EXPECT_EQ(chain.entries()[1].issued_at, ToUnixMillis(At(200)));
  auto append = [&](int64_t issued_at) {
    Bytes entry = HandMadeEntry(chain, bob_, PublicDer(alice_), issued_at);
    return Refusal(Rewrite(chain, [&](auto& entries) { entries.push_back(entry); }));
  };
  EXPECT_EQ(append(ToUnixMillis(At(300))), "accepted");
  EXPECT_NE(append(kLatestUnixSeconds * 1000 + 1000).find("outside the dates accepted"),
            std::string::npos);
  EXPECT_NE(append(std::numeric_limits<int64_t>::max()).find("entry 2 time"), std::string::npos);
  EXPECT_NE(append(ToUnixMillis(At(199))).find("before the entry it follows"), std::string::npos);
}

TEST_F(OwnershipChainTest, ReplayIsNotAnExtension) {
  OwnershipChain old = SoldToAliceThenBob();
  OwnershipChain newer = old;
  ASSERT_TRUE(newer.Extend(bob_, PublicDer(mallory_), EntryKind::kTransfer, At(300), authorities_));
  EXPECT_TRUE(newer.IsExtensionOf(old));
  EXPECT_FALSE(old.IsExtensionOf(newer)) << "an older copy is a replay";
  OwnershipChain fork = old;
  ASSERT_TRUE(fork.Extend(bob_, PublicDer(alice_), EntryKind::kTransfer, At(300), authorities_));
  EXPECT_FALSE(fork.IsExtensionOf(newer));
}

}  // namespace
}  // namespace concierge::ownership
