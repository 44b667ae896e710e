#include "shm/checksum.h"

#include <cstring>

namespace rz::shm {

namespace {
inline uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}
}  // namespace

uint64_t checksum64(const void* data, size_t size, uint64_t seed) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t a[4] = {seed, seed ^ 0x9e3779b97f4a7c15ull, seed + 1, seed ^ 0x6a09e667f3bcc909ull};
  uint64_t b[4] = {0, 0, 0, 0};
  size_t n = size / 32;
  for (size_t i = 0; i < n; ++i, p += 32) {
    uint64_t w[4];
    std::memcpy(w, p, 32);
    for (int k = 0; k < 4; ++k) {
      a[k] += w[k];
      b[k] += a[k];
    }
  }
  uint64_t rest[4] = {0, 0, 0, 0};
  std::memcpy(rest, p, size % 32);
  for (int k = 0; k < 4; ++k) {
    a[k] += rest[k];
    b[k] += a[k];
  }
  uint64_t h = mix(size ^ seed);
  for (int k = 0; k < 4; ++k) h = mix(h ^ a[k]) + mix(b[k] + k);
  return h;
}

}  // namespace rz::shm
