#pragma once

#include <cstdint>
#include <span>

#include "common/bytes.h"

namespace concierge {

// Random is the only source of nonces, serials and keys' seeds in protocol logic.
class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(std::span<uint8_t> out) = 0;

  Bytes Generate(size_t count) {
    Bytes out(count);
    Fill(out);
    return out;
  }
};

// CryptoRandom draws from OpenSSL's CSPRNG. Thread-safe; aborts if the CSPRNG fails, since
// continuing with weak randomness would be worse than stopping.
class CryptoRandom final : public Random {
 public:
  void Fill(std::span<uint8_t> out) override;
};

}  // namespace concierge
