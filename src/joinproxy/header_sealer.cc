#include "joinproxy/header_sealer.h"

#include <algorithm>

#include "crypto/aead.h"
#include "crypto/key.h"

namespace concierge::joinproxy {
namespace {

constexpr uint8_t kIpv4 = 0;
constexpr uint8_t kLinkLocalIpv6 = 1;
constexpr uint8_t kIpv6 = 2;

bool IsLinkLocal(const PledgeAddress& pledge) {
  // fe80::/64: only the interface identifier needs to travel.
  return pledge.ipv6 && pledge.ip[0] == 0xfe && pledge.ip[1] == 0x80 &&
         std::all_of(pledge.ip.begin() + 2, pledge.ip.begin() + 8,
                     [](uint8_t b) { return b == 0; });
}

Bytes Plaintext(const PledgeAddress& pledge) {
  uint8_t kind = !pledge.ipv6 ? kIpv4 : IsLinkLocal(pledge) ? kLinkLocalIpv6 : kIpv6;
  Bytes out = {kind, static_cast<uint8_t>(pledge.ifindex >> 8),
               static_cast<uint8_t>(pledge.ifindex), static_cast<uint8_t>(pledge.port >> 8),
               static_cast<uint8_t>(pledge.port)};
  auto first = pledge.ip.begin() + (kind == kLinkLocalIpv6 ? 8 : 0);
  auto last = pledge.ip.begin() + (kind == kIpv4 ? 4 : 16);
  out.insert(out.end(), first, last);
  return out;
}

std::optional<PledgeAddress> FromPlaintext(const Bytes& plain) {
  if (plain.size() < 5) {
    return std::nullopt;
  }
  PledgeAddress pledge;
  uint8_t kind = plain[0];
  pledge.ifindex = (uint32_t{plain[1]} << 8) | plain[2];
  pledge.port = static_cast<uint16_t>((plain[3] << 8) | plain[4]);
  size_t length = plain.size() - 5;
  if (kind == kIpv4 && length == 4) {
    pledge.ipv6 = false;
    std::copy_n(plain.begin() + 5, 4, pledge.ip.begin());
  } else if (kind == kLinkLocalIpv6 && length == 8) {
    pledge.ip[0] = 0xfe;
    pledge.ip[1] = 0x80;
    std::copy_n(plain.begin() + 5, 8, pledge.ip.begin() + 8);
  } else if (kind == kIpv6 && length == 16) {
    std::copy_n(plain.begin() + 5, 16, pledge.ip.begin());
  } else {
    return std::nullopt;
  }
  if (pledge.port == 0) {
    return std::nullopt;
  }
  return pledge;
}

}  // namespace

HeaderSealer::HeaderSealer(const Clock& clock, Random& random, SealerTimes times)
    : clock_(clock), random_(random), times_(times) {
  current_ = NewKey(random_.Generate(1)[0]);
}

HeaderSealer::Key HeaderSealer::NewKey(uint8_t epoch) {
  return {epoch, random_.Generate(crypto::kCcmKeySize), random_.Generate(32), clock_.Now()};
}

Bytes HeaderSealer::ExportKey() const {
  Bytes out = {current_.epoch};
  out.insert(out.end(), current_.cipher.begin(), current_.cipher.end());
  out.insert(out.end(), current_.mac.begin(), current_.mac.end());
  auto made = static_cast<uint64_t>(ToUnixSeconds(current_.made));
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<uint8_t>(made >> shift));
  }
  return out;
}

Status HeaderSealer::ImportKey(ByteSpan exported) {
  constexpr size_t kSize = 1 + crypto::kCcmKeySize + 32 + 8;
  if (exported.size() != kSize) {
    return MakeError(ErrorCode::kBadFormat, "a join proxy key is " + std::to_string(kSize) +
                                                " bytes, not " + std::to_string(exported.size()));
  }
  Key key;
  key.epoch = exported[0];
  key.cipher.assign(exported.begin() + 1, exported.begin() + 1 + crypto::kCcmKeySize);
  key.mac.assign(exported.begin() + 1 + crypto::kCcmKeySize, exported.begin() + kSize - 8);
  uint64_t made = 0;
  for (size_t i = kSize - 8; i < kSize; ++i) {
    made = (made << 8) | exported[i];
  }
  key.made = FromUnixSeconds(static_cast<int64_t>(made));
  current_ = std::move(key);
  previous_.reset();
  return OkStatus();
}

void HeaderSealer::Rotate() {
  Key next = NewKey(static_cast<uint8_t>(current_.epoch + 1));
  previous_ = std::move(current_);
  current_ = std::move(next);
}

Bytes HeaderSealer::Seal(const PledgeAddress& pledge) {
  if (clock_.Now() - current_.made >= times_.rotation) {
    Rotate();
  }
  Bytes plain = Plaintext(pledge);
  Bytes synthetic = crypto::HmacSha256(current_.mac, plain);
  Bytes header = {current_.epoch};
  header.insert(header.end(), synthetic.begin(), synthetic.begin() + (kNonceSize - 1));
  // Sealing cannot fail with a 16-byte key and an 8-byte nonce.
  Bytes sealed = crypto::CcmSeal(current_.cipher, header, plain).value();
  header.insert(header.end(), sealed.begin(), sealed.end());
  return header;
}

std::optional<PledgeAddress> HeaderSealer::Open(ByteSpan header) {
  if (header.size() < kNonceSize + crypto::kCcmTagSize + 5) {
    return std::nullopt;
  }
  const Key* key = nullptr;
  if (header[0] == current_.epoch) {
    key = &current_;
  } else if (previous_ && header[0] == previous_->epoch &&
             clock_.Now() - current_.made <= times_.grace) {
    key = &*previous_;
  }
  if (key == nullptr) {
    return std::nullopt;
  }
  auto plain = crypto::CcmOpen(key->cipher, header.first(kNonceSize), header.subspan(kNonceSize));
  if (!plain) {
    return std::nullopt;
  }
  return FromPlaintext(*plain);
}

}  // namespace concierge::joinproxy
