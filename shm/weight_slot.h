// WeightSlot: the learner's newest weights, readable by every actor without locks.
//
// Three buffers of weight_bytes, each with its own sequence word (odd while being written),
// and one 64-bit published word = version << 2 | buffer index. Each publish writes the buffer
// after the published one ((index + 1) % 3), a buffer that is neither the published one nor
// the one published before it, then `published` is flipped with a release store. Readers load
// `published`, copy that buffer and re-check its sequence word (seqlock), retrying a bounded number
// of times; they never block the publisher and never accept a torn copy. A publisher killed
// mid-write leaves only an unpublished buffer with an odd sequence word; the published version is
// untouched. One publisher at a time (the learner).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "shm/segment.h"

namespace rz::shm {

class WeightSlot {
 public:
  explicit WeightSlot(Segment& segment);

  // Publishes a copy of blob; returns the new version (previous + 1, first is 1). Throws
  // ShmError if size > weight_bytes.
  uint64_t publish(const void* blob, size_t size, uint64_t layout_tag);
  // Same, with a version floor: the new version is max(previous + 1, min_version). A learner
  // resumed from a checkpoint of version c into a NEW segment (whose slot starts at 0)
  // publishes with min_version = c + 1, so versions never go back across a restart; readers
  // only ever see versions grow, possibly by more than one.
  uint64_t publish(const void* blob, size_t size, uint64_t layout_tag, uint64_t min_version);
  // Newest published version, 0 if none. One atomic load: the cheap "anything new?" check.
  uint64_t latest_version() const;
  // Copies the newest complete version into *out (resized to the blob size); returns its
  // version, or 0 (out untouched) if nothing was published. Throws ShmError if no
  // consistent copy could be made in a bounded number of attempts (publisher far faster
  // than the reader).
  uint64_t read(std::vector<uint8_t>* out, uint64_t* layout_tag = nullptr) const;
  // Same as read() but only if the newest version is newer than `have`; returns 0 otherwise.
  [[nodiscard]] uint64_t read_if_newer(uint64_t have, std::vector<uint8_t>* out,
                                       uint64_t* layout_tag = nullptr) const;

  uint64_t capacity() const { return capacity_; }

 private:
  struct WeightSlotHeader* header_;
  uint8_t* buffers_;
  uint64_t capacity_;
};

}  // namespace rz::shm
