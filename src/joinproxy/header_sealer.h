#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"

namespace concierge::joinproxy {

// PledgeAddress is where a pledge's datagram came from, all a stateless proxy needs to answer
// it: the address, the port and, for a link-local IPv6 address, the interface.
struct PledgeAddress {
  bool ipv6 = true;
  std::array<uint8_t, 16> ip{};  // IPv4 in the first four bytes
  uint16_t port = 0;
  uint32_t ifindex = 0;  // 0: none (IPv4, or an IPv6 address that is not link-local)

  bool operator==(const PledgeAddress&) const = default;
};

struct SealerTimes {
  // A new key this often (the draft recommends about a day: rotation ends handshakes under way).
  std::chrono::seconds rotation{std::chrono::hours(24)};
  // How long headers under the previous key are still taken after a rotation: a handshake's
  // length, so rotation costs at most a DTLS retransmission.
  std::chrono::seconds grace{30};
};

// HeaderSealer makes the JPY header that carries a pledge's address to the registrar and back
// (draft-ietf-anima-constrained-join-proxy-20 §"Stateless Join Proxy", RFC 8974 §3.1):
// AES-128-CCM with an 8-byte tag under a key only this proxy knows, so the proxy keeps nothing
// per pledge and an answer whose header it did not make, or made under a retired key, is
// dropped. One pledge address always gets the same header under one key, since the registrar
// tells pledges apart by it: the nonce is synthetic, a MAC of the address (as in SIV, RFC
// 5297), so it repeats only with the very same plaintext. Layout (at most 32 bytes for a
// link-local or IPv4 pledge):
//   key epoch (1) ‖ first 7 bytes of HMAC-SHA-256(MAC key, plaintext)  -- the CCM nonce
//   ‖ CCM(plaintext: kind (1: 0 IPv4, 1 link-local IPv6 by its interface identifier, 2 other
//         IPv6) ‖ ifindex (2) ‖ port (2) ‖ address (4, 8 or 16)) ‖ tag (8)
// Not thread-safe; keys come from the injected Random, times from the injected Clock.
class HeaderSealer {
 public:
  static constexpr size_t kNonceSize = 8;

  HeaderSealer(const Clock& clock, Random& random, SealerTimes times = {});

  // The current key as bytes, so a restarted proxy can take it up again and answers to
  // headers sealed before the restart still find their pledges: epoch (1) ‖ cipher key (16) ‖
  // MAC key (32) ‖ when it was made (8, Unix seconds, big-endian).
  Bytes ExportKey() const;
  // ImportKey makes such bytes the current key; kBadFormat if they are not such bytes.
  Status ImportKey(ByteSpan exported);

  uint8_t epoch() const { return current_.epoch; }

  Bytes Seal(const PledgeAddress& pledge);
  // Open returns the address a header carries, or nothing if it is truncated, forged, or
  // sealed under a key that has retired past its grace.
  std::optional<PledgeAddress> Open(ByteSpan header);
  // Rotate starts a new key now (otherwise Seal does when times.rotation has passed).
  void Rotate();

 private:
  struct Key {
    uint8_t epoch = 0;
    Bytes cipher;  // AES-128-CCM
    Bytes mac;     // the synthetic nonce's HMAC
    SystemTime made{};
  };

  Key NewKey(uint8_t epoch);

  const Clock& clock_;
  Random& random_;
  SealerTimes times_;
  Key current_;
  std::optional<Key> previous_;
};

}  // namespace concierge::joinproxy
