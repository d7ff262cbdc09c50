#include "common/random.h"

#include <cstdlib>

#include <openssl/rand.h>

namespace concierge {

void CryptoRandom::Fill(std::span<uint8_t> out) {
  if (out.empty()) {
    return;
  }
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    std::abort();
  }
}

}  // namespace concierge
