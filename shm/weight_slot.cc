// The weight-slot protocol (a triple-buffered seqlock). SIGKILL arguments in docs/shm.md.
#include "shm/weight_slot.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "shm/fault_hook.h"
#include "shm/layout.h"

namespace rz::shm {

namespace {

constexpr int kReadAttempts = 64;

// The seqlock's data copy races with a writer by design (the sequence re-check rejects torn
// copies). ThreadSanitizer cannot see that argument, so under TSan copy word by word with
// relaxed atomic builtins, which it understands; everywhere else plain memcpy.
#if defined(__SANITIZE_THREAD__)
void racy_copy(void* dst, const void* src, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  auto* s = const_cast<uint8_t*>(static_cast<const uint8_t*>(src));
  for (size_t i = 0; i < n; ++i) d[i] = __atomic_load_n(s + i, __ATOMIC_RELAXED);
}
void racy_fill(void* dst, const void* src, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  auto* s = static_cast<const uint8_t*>(src);
  for (size_t i = 0; i < n; ++i) __atomic_store_n(d + i, s[i], __ATOMIC_RELAXED);
}
#else
void racy_copy(void* dst, const void* src, size_t n) {
  std::memcpy(dst, src, n);
}
void racy_fill(void* dst, const void* src, size_t n) {
  std::memcpy(dst, src, n);
}
#endif

uint64_t buffer_stride(uint64_t weight_bytes) {
  return (weight_bytes + 4095) / 4096 * 4096;
}

}  // namespace

WeightSlot::WeightSlot(Segment& segment) {
  header_ = reinterpret_cast<WeightSlotHeader*>(segment.base() + segment.layout().weight_slot);
  buffers_ = segment.base() + segment.layout().weight_buffers;
  capacity_ = segment.sizes().weight_bytes;
}

uint64_t WeightSlot::publish(const void* blob, size_t size, uint64_t layout_tag) {
  return publish(blob, size, layout_tag, 0);
}

uint64_t WeightSlot::publish(const void* blob, size_t size, uint64_t layout_tag,
                             uint64_t min_version) {
  if (size > capacity_)
    throw ShmError(
        fmt::format("weight blob of {} bytes exceeds weight_bytes = {}: start the "
                    "run with a larger weight_bytes",
                    size, capacity_));
  const uint64_t published = header_->published.load(std::memory_order_acquire);
  const uint64_t version = std::max((published >> 2) + 1, min_version);
  // Each publish goes to the buffer after the published one: never the published buffer nor
  // the one published before it (which slow readers may still be copying), since every
  // publish advances the index by one. Without a version floor this is buffer version % 3
  // (the first publish, from published == 0, goes to buffer 1); with a jump the index still
  // advances by one, so the argument does not depend on versions being consecutive.
  const uint32_t index = uint32_t(((published & 3) + 1) % 3);
  WeightBufferHeader& b = header_->buffers[index];
  uint8_t* dst = buffers_ + index * buffer_stride(capacity_);

  // Seqlock write side. Make the sequence odd (a dead publisher may have left it odd
  // already: step by 2 then), and fence so no data store below becomes visible before it.
  uint64_t seq = b.seq.load(std::memory_order_relaxed);
  uint64_t odd = (seq & 1) ? seq + 2 : seq + 1;
  b.seq.store(odd, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  b.version.store(version, std::memory_order_relaxed);
  b.size.store(size, std::memory_order_relaxed);
  b.layout_tag.store(layout_tag, std::memory_order_relaxed);
  racy_fill(dst, blob, size / 2);
  testing::fault_point(testing::FaultPoint::kWeightMidCopy, version);
  racy_fill(dst + size / 2, static_cast<const uint8_t*>(blob) + size / 2, size - size / 2);
  // release: a reader that sees the even sequence sees all the data above.
  b.seq.store(odd + 1, std::memory_order_release);
  // release: a reader that loads this word finds the buffer complete. Until this store the
  // old version stays published, so a publisher killed anywhere above changes nothing.
  header_->published.store(version << 2 | index, std::memory_order_release);
  return version;
}

uint64_t WeightSlot::latest_version() const {
  return header_->published.load(std::memory_order_acquire) >> 2;
}

uint64_t WeightSlot::read(std::vector<uint8_t>* out, uint64_t* layout_tag) const {
  return read_if_newer(0, out, layout_tag);
}

uint64_t WeightSlot::read_if_newer(uint64_t have, std::vector<uint8_t>* out,
                                   uint64_t* layout_tag) const {
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    const uint64_t published = header_->published.load(std::memory_order_acquire);
    const uint64_t version = published >> 2;
    const uint32_t index = uint32_t(published & 3);
    if (version <= have) return 0;
    if (index > 2)
      throw ShmError(
          "weight slot published word is corrupt (buffer index 3): remove the "
          "segment with launch.sh stop and restart the run");
    const WeightBufferHeader& b = header_->buffers[index];
    // acquire: pairs with the writer's final release store of the sequence.
    const uint64_t seq1 = b.seq.load(std::memory_order_acquire);
    if (seq1 & 1) continue;                                              // lapped: being rewritten
    if (b.version.load(std::memory_order_relaxed) != version) continue;  // lapped
    const uint64_t size = b.size.load(std::memory_order_relaxed);
    const uint64_t tag = b.layout_tag.load(std::memory_order_relaxed);
    if (size > capacity_) continue;  // torn; the re-check fails
    out->resize(size);
    racy_copy(out->data(), buffers_ + index * buffer_stride(capacity_), size);
    // acquire fence: if the copy saw any byte of a later write, the load below sees that
    // write's odd sequence (it was stored before the writer's release fence).
    std::atomic_thread_fence(std::memory_order_acquire);
    if (b.seq.load(std::memory_order_relaxed) != seq1) continue;
    if (layout_tag) *layout_tag = tag;
    return version;
  }
  throw ShmError(
      fmt::format("could not copy a consistent weight version in {} attempts: the "
                  "publisher rewrites faster than this process copies; publish "
                  "less often",
                  kReadAttempts));
}

}  // namespace rz::shm
