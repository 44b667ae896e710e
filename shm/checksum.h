// checksum64: the record checksum of the TrajectoryRing. Internal to shm/.
//
// A 4-way Fletcher-style sum over 64-bit words (a += w; b += a per way), finished with a
// multiply-xorshift mix. It exists to catch torn, stale or stray bytes, not adversaries, and
// must run near memory bandwidth because every record is summed twice (producer, consumer):
// the four ways are independent add chains that the compiler keeps in vector registers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rz::shm {

uint64_t checksum64(const void* data, size_t size, uint64_t seed);

}  // namespace rz::shm
