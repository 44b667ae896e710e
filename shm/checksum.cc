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

// Four 64-bit ways in one vector (GCC vector extension: one AVX2 register, or two SSE2
// registers on the baseline build).
typedef uint64_t V4 __attribute__((vector_size(32)));

}  // namespace

// The checksum loop, optionally copying every 64-byte block to dst as it goes (one pass over
// the bytes instead of memcpy followed by a second read).
template <bool kCopy>
inline __attribute__((always_inline)) uint64_t checksum_impl(uint8_t* dst, const void* data,
                                                             size_t size, uint64_t seed) {
  const auto* p = static_cast<const uint8_t*>(data);
  const uint8_t* const end = p + size;
  // Two independent (a, b) vector pairs per 64 bytes: the add chains of one pair overlap
  // with the other's, so the loop runs at load throughput rather than add latency.
  V4 a0 = {seed, seed ^ 0x9e3779b97f4a7c15ull, seed + 1, seed ^ 0x6a09e667f3bcc909ull};
  V4 a1 = a0 + 3, b0 = {0, 0, 0, 0}, b1 = b0;
  size_t n = size / 64;
  for (size_t i = 0; i < n; ++i, p += 64) {
    V4 w0, w1;
    std::memcpy(&w0, p, 32);
    std::memcpy(&w1, p + 32, 32);
    if (kCopy) {
      std::memcpy(dst, &w0, 32);
      std::memcpy(dst + 32, &w1, 32);
      dst += 64;
    }
    a0 += w0;
    b0 += a0;
    a1 += w1;
    b1 += a1;
  }
  if (size % 64) {
    if (kCopy) std::memcpy(dst, p, size % 64);
    // The last partial block. With at least 64 bytes, re-read the final 64 bytes (overlapping
    // the previous block; deterministic, so fine for a checksum) instead of copying the
    // tail to a stack buffer, which would cost a store-forwarding stall per record.
    V4 w0, w1;
    if (size >= 64) {
      std::memcpy(&w0, end - 64, 32);
      std::memcpy(&w1, end - 32, 32);
    } else {
      uint8_t rest[64] = {};
      std::memcpy(rest, p, size);
      std::memcpy(&w0, rest, 32);
      std::memcpy(&w1, rest + 32, 32);
    }
    a0 += w0;
    b0 += a0;
    a1 += w1;
    b1 += a1;
  }
  // Fold the 16 words to 4 with cheap vector ops, then mix those serially.
  V4 f = (a0 ^ ((b0 << 17) | (b0 >> 47))) + (a1 ^ ((b1 << 31) | (b1 >> 33)));
  uint64_t h = mix(size ^ seed ^ f[0]);
  h = mix(h ^ f[1]);
  h = mix(h ^ f[2]);
  h = mix(h ^ f[3]);
  return h;
}

// Each built twice, for AVX2 and for the x86-64 baseline; the loader picks one for this CPU
// (an ifunc). Sanitizer runtimes crash on ifunc resolvers that run before they initialise,
// so sanitizer builds get the baseline only.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define RZ_TARGET_CLONES
#else
#define RZ_TARGET_CLONES __attribute__((target_clones("avx2", "default")))
#endif

RZ_TARGET_CLONES
uint64_t checksum64(const void* data, size_t size, uint64_t seed) {
  return checksum_impl<false>(nullptr, data, size, seed);
}

RZ_TARGET_CLONES
uint64_t copy_and_checksum64(void* dst, const void* src, size_t size, uint64_t seed) {
  return checksum_impl<true>(static_cast<uint8_t*>(dst), src, size, seed);
}

}  // namespace rz::shm
