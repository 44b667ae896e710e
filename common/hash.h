// The project's non-cryptographic hashes, in one place so that every on-disk checksum and
// every derived name is computed by the same code (four copies of FNV-1a had drifted apart
// in their signatures; one day they would have drifted in their results).
//
//   fnv1a64     64-bit FNV-1a: checkpoint files, the label cache, game-spec tags, the
//               default segment name. Changing it changes bytes on disk: never do.
//   fnv1a32     32-bit FNV-1a: the trajectory record checksum.
//   splitmix64  Steele/Lea/Flood's SplitMix64 step (golden-ratio increment + finaliser):
//               seeds and cheap well-mixed integer hashes.
//   mix64       the SplitMix64 finaliser alone (no increment): Zobrist-style board keys.
//
// Not here on purpose: the weight blob's word-wise folded checksum (common/net/weight_blob.cc,
// a different function) and shm/'s record checksum (shm/ depends on nothing in common/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rz {

constexpr uint64_t kFnvOffsetBasis = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime64 = 1099511628211ULL;
constexpr uint32_t kFnvOffsetBasis32 = 2166136261u;
constexpr uint32_t kFnvPrime32 = 16777619u;

// 64-bit FNV-1a of `size` bytes, continuing from `hash` (start with kFnvOffsetBasis).
inline uint64_t fnv1a64(const void* data, size_t size, uint64_t hash = kFnvOffsetBasis) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * kFnvPrime64;
  return hash;
}
inline uint64_t fnv1a64(std::string_view text) {
  return fnv1a64(text.data(), text.size());
}

// 32-bit FNV-1a of `size` bytes.
inline uint32_t fnv1a32(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t hash = kFnvOffsetBasis32;
  for (size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * kFnvPrime32;
  return hash;
}

// The SplitMix64 finaliser: a bijection that spreads every input bit over the output.
constexpr uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// One SplitMix64 step: the golden-ratio increment, then the finaliser.
constexpr uint64_t splitmix64(uint64_t x) {
  return mix64(x + 0x9e3779b97f4a7c15ULL);
}

}  // namespace rz
