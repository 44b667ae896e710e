// checksum64: the record checksum of the TrajectoryRing. Internal to shm/.
//
// An 8-way Fletcher-style sum over 64-bit words (a += w; b += a per way, so a byte's
// position matters), finished with a multiply-xorshift mix. It exists to catch torn, stale or
// stray bytes, not adversaries, and must run near memory bandwidth because every record is
// summed twice (producer, consumer): the ways are independent add chains held in vector
// registers, and the function is built for AVX2 and for baseline x86-64 (picked at load).
#pragma once

#include <cstddef>
#include <cstdint>

namespace rz::shm {

uint64_t checksum64(const void* data, size_t size, uint64_t seed);
// Copies size bytes src -> dst and returns checksum64(src, size, seed), in one pass.
uint64_t copy_and_checksum64(void* dst, const void* src, size_t size, uint64_t seed);

}  // namespace rz::shm
