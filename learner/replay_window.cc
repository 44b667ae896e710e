#include "learner/replay_window.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace rz {
namespace {

constexpr uint64_t kRegionMagic = 0x315759414c504552ULL;  // "REPLAYW1"
constexpr uint32_t kRegionVersion = 2;                    // 2: bad_records, samples_trained
constexpr uint32_t kEntryKind = 0x52544e45;               // "ENTR"
constexpr uint32_t kWrapKind = 0x50415257;                // "WRAP": skip to the start of the ring
constexpr uint32_t kMaxPositionsPerRecord = 65535;        // target indices are u16

uint64_t align8(uint64_t n) {
  return (n + 7) & ~uint64_t{7};
}
uint64_t align64(uint64_t n) {
  return (n + 63) & ~uint64_t{63};
}

}  // namespace

// One commit slot: everything that must change together when an entry is published. Two
// slots alternate; the `active` word selects the committed one, so publication is a single
// 4-byte release store and a learner killed while filling the inactive slot changed nothing.
struct CommitSlot {
  uint64_t tail;           // logical end of the committed entries
  uint64_t next_ordinal;   // records ever inserted
  uint64_t next_position;  // positions ever inserted
  uint64_t next_target;    // full-search positions ever inserted
  uint64_t bad_records;    // records refused by validation (committed with their sequence)
  uint64_t lane_next_sequence[kReplayMaxLanes];
};

struct RegionHeader {
  // Stored last when formatting (release), so a learner killed mid-format leaves a region
  // that the next one formats again.
  std::atomic<uint64_t> magic;
  uint32_t version;
  uint32_t lanes;
  uint64_t capacity;  // bytes of the entry ring after the header
  uint64_t game_tag;
  // Logical offset of the oldest entry. Advanced (release) BEFORE the evicted bytes are
  // reused; never beyond the committed tail.
  alignas(64) std::atomic<uint64_t> head;
  std::atomic<uint32_t> active;
  // Samples trained on this region's positions: the rate limiter's count, of the same epoch
  // (this segment) as next_target. One writer; relaxed (a counter, ordered with nothing).
  std::atomic<uint64_t> samples_trained;
  CommitSlot slots[2];
};

struct EntryHeader {
  uint32_t kind;
  uint32_t total_bytes;  // whole entry, multiple of 8
  uint32_t lane;
  uint32_t record_bytes;
  uint64_t sequence;
  uint64_t ordinal;
  uint64_t position_before;
  uint32_t positions;
  uint32_t targets;
};
static_assert(sizeof(EntryHeader) == 48, "entry header is part of the region layout");
static_assert(std::atomic<uint64_t>::is_always_lock_free, "region words must be lock-free");

namespace {

uint64_t data_offset() {
  return align64(sizeof(RegionHeader));
}

uint64_t entry_bytes(uint32_t size, uint32_t targets) {
  return align8(sizeof(EntryHeader) + 2ull * targets) + align8(size);
}

// Walks the committed entries [head, tail), bounds-checking every header before use.
// Calls f(logical offset, header) for each; throws ReplayError on an inconsistent region.
template <typename F>
void walk(const RegionHeader* h, const uint8_t* data, F&& f) {
  const CommitSlot& slot = h->slots[h->active.load(std::memory_order_acquire) & 1];
  uint64_t off = h->head.load(std::memory_order_acquire);
  const uint64_t cap = h->capacity;
  auto corrupt = [&](const char* what) {
    throw ReplayError(std::string("learner region is inconsistent (") + what + " at offset " +
                      std::to_string(off) +
                      "); stop the run and start a new one (the shm segment is damaged)");
  };
  if (off > slot.tail || slot.tail - off > cap) corrupt("head/tail");
  uint64_t expect_ordinal = UINT64_MAX;
  while (off < slot.tail) {
    uint64_t phys = off % cap;
    if (cap - phys < 8) {  // cannot happen with 8-aligned entries; defensive
      off += cap - phys;
      continue;
    }
    EntryHeader e;
    std::memcpy(&e, data + phys, std::min<uint64_t>(sizeof e, cap - phys));
    if (e.kind == kWrapKind) {
      off += cap - phys;
      continue;
    }
    if (cap - phys < sizeof e) corrupt("entry header past end");
    if (e.kind != kEntryKind) corrupt("entry kind");
    if (e.total_bytes < sizeof e || e.total_bytes % 8 != 0 || e.total_bytes > cap - phys ||
        e.total_bytes > slot.tail - off)
      corrupt("entry size");
    if (e.total_bytes != entry_bytes(e.record_bytes, e.targets)) corrupt("entry layout");
    if (e.lane >= h->lanes || e.targets > e.positions) corrupt("entry fields");
    if (expect_ordinal != UINT64_MAX && e.ordinal != expect_ordinal) corrupt("ordinal");
    const uint16_t* targets = reinterpret_cast<const uint16_t*>(data + phys + sizeof e);
    for (uint32_t t = 0; t < e.targets; ++t)
      if (targets[t] >= e.positions) corrupt("target index");
    f(off, e);
    expect_ordinal = e.ordinal + 1;
    off += e.total_bytes;
  }
  if (expect_ordinal != UINT64_MAX && expect_ordinal != slot.next_ordinal) corrupt("entry count");
}

}  // namespace

uint64_t replay_region_bytes(uint64_t max_positions, uint64_t bytes_per_position,
                             uint64_t max_record_bytes) {
  // Room for the positions plus two largest records: eviction is by whole entries, and a
  // record that does not fit before the end of the ring wastes up to one record of padding.
  uint64_t largest = entry_bytes(static_cast<uint32_t>(max_record_bytes), kMaxPositionsPerRecord);
  return data_offset() + align8(max_positions * bytes_per_position) + 2 * largest;
}

ReplayWindow::ReplayWindow(uint8_t* region, uint64_t bytes, uint64_t max_positions, uint32_t lanes,
                           uint64_t game_tag)
    : max_positions_(max_positions), lanes_(lanes) {
  if (region == nullptr || bytes < data_offset() + 4096)
    throw ReplayError("the segment's learner region is too small (" + std::to_string(bytes) +
                      " bytes); the launcher must size it with learner_region_bytes_for()");
  if (lanes == 0 || lanes > kReplayMaxLanes)
    throw ReplayError("replay window supports 1.." + std::to_string(kReplayMaxLanes) +
                      " lanes, the segment has " + std::to_string(lanes));
  header_ = reinterpret_cast<RegionHeader*>(region);
  data_ = region + data_offset();
  capacity_ = (bytes - data_offset()) & ~uint64_t{7};
  if (header_->magic.load(std::memory_order_acquire) != kRegionMagic) {
    // Fresh (or half-formatted) region: nothing was ever committed in it.
    header_->version = kRegionVersion;
    header_->lanes = lanes;
    header_->capacity = capacity_;
    header_->game_tag = game_tag;
    header_->head.store(0, std::memory_order_relaxed);
    header_->active.store(0, std::memory_order_relaxed);
    header_->samples_trained.store(0, std::memory_order_relaxed);
    std::memset(header_->slots, 0, sizeof header_->slots);
    header_->magic.store(kRegionMagic, std::memory_order_release);
  } else {
    if (header_->version != kRegionVersion)
      throw ReplayError("learner region has layout version " + std::to_string(header_->version) +
                        ", this learner uses " + std::to_string(kRegionVersion) +
                        "; start a new run");
    if (header_->game_tag != game_tag)
      throw ReplayError(
          "learner region holds records of another game than this learner's "
          "config; use the run's own config.ini");
    if (header_->lanes != lanes || header_->capacity != capacity_)
      throw ReplayError(
          "learner region was formatted for another segment geometry; start a "
          "new run");
  }
  rebuild_index();
}

void ReplayWindow::rebuild_index() {
  index_.clear();
  targets_cumulative_ = targets_in_window_ = positions_in_window_ = 0;
  walk(header_, data_, [&](uint64_t off, const EntryHeader& e) {
    index_.push_back({off, targets_cumulative_, e.positions, e.targets});
    targets_cumulative_ += e.targets;
    targets_in_window_ += e.targets;
    positions_in_window_ += e.positions;
  });
}

bool ReplayWindow::contains(uint32_t lane, uint64_t sequence) const {
  if (lane >= lanes_) return false;
  const CommitSlot& slot = header_->slots[header_->active.load(std::memory_order_acquire) & 1];
  return sequence < slot.lane_next_sequence[lane];
}

void ReplayWindow::evict_oldest() {
  const Indexed& front = index_.front();
  positions_in_window_ -= front.positions;
  targets_in_window_ -= front.targets;
  index_.pop_front();
  const CommitSlot& slot = header_->slots[header_->active.load(std::memory_order_relaxed) & 1];
  uint64_t new_head = index_.empty() ? slot.tail : index_.front().offset;
  // Release: the eviction is recorded before the caller overwrites the entry's bytes.
  header_->head.store(new_head, std::memory_order_release);
}

void ReplayWindow::insert(uint32_t lane, uint64_t sequence, const uint8_t* record, uint32_t size,
                          uint32_t positions, const std::vector<uint16_t>& targets) {
  if (lane >= lanes_)
    throw ReplayError("record from lane " + std::to_string(lane) + " out of range");
  if (positions > kMaxPositionsPerRecord || targets.size() > positions)
    throw ReplayError("record has too many positions for the replay window");
  const uint64_t total = entry_bytes(size, static_cast<uint32_t>(targets.size()));
  if (total > capacity_ / 2)
    throw ReplayError("record of " + std::to_string(size) +
                      " bytes does not fit the learner "
                      "region; the launcher must size it with learner_region_bytes_for()");

  uint32_t active = header_->active.load(std::memory_order_relaxed) & 1;
  const CommitSlot& cur = header_->slots[active];
  const uint64_t pos = cur.tail;
  const uint64_t phys = pos % capacity_;
  const uint64_t pad = capacity_ - phys < total ? capacity_ - phys : 0;
  const uint64_t start = pos + pad, end = start + total;

  // 1. Evict by age until the entry fits in bytes and the window in positions.
  while (!index_.empty() && (end - header_->head.load(std::memory_order_relaxed) > capacity_ ||
                             positions_in_window_ + positions > max_positions_))
    evict_oldest();
  if (index_.empty()) header_->head.store(pos, std::memory_order_release);

  // 2. Write beyond the committed tail: nobody reads these bytes until step 3.
  if (pad > 0) {
    EntryHeader wrap{};
    wrap.kind = kWrapKind;
    std::memcpy(data_ + phys, &wrap, std::min<uint64_t>(sizeof wrap, pad));
  }
  uint8_t* p = data_ + start % capacity_;
  EntryHeader e{};
  e.kind = kEntryKind;
  e.total_bytes = static_cast<uint32_t>(total);
  e.lane = lane;
  e.record_bytes = size;
  e.sequence = sequence;
  e.ordinal = cur.next_ordinal;
  e.position_before = cur.next_position;
  e.positions = positions;
  e.targets = static_cast<uint32_t>(targets.size());
  std::memcpy(p, &e, sizeof e);
  if (!targets.empty()) std::memcpy(p + sizeof e, targets.data(), 2 * targets.size());
  std::memcpy(p + align8(sizeof e + 2 * targets.size()), record, size);

  // 3. Commit: fill the inactive slot, then flip `active` with release so that a reader (or
  // the next learner) that sees the new slot also sees the entry bytes and the slot's fields.
  CommitSlot& next = header_->slots[active ^ 1];
  std::memcpy(&next, &cur, sizeof next);
  next.tail = end;
  next.next_ordinal = cur.next_ordinal + 1;
  next.next_position = cur.next_position + positions;
  next.next_target = cur.next_target + targets.size();
  next.lane_next_sequence[lane] = std::max(next.lane_next_sequence[lane], sequence + 1);
  header_->active.store(active ^ 1, std::memory_order_release);

  index_.push_back({start, targets_cumulative_, positions, static_cast<uint32_t>(targets.size())});
  targets_cumulative_ += targets.size();
  targets_in_window_ += targets.size();
  positions_in_window_ += positions;
}

void ReplayWindow::skip_bad(uint32_t lane, uint64_t sequence) {
  if (lane >= lanes_)
    throw ReplayError("record from lane " + std::to_string(lane) + " out of range");
  // A commit without an entry: the same one-store publication as insert()'s step 3.
  uint32_t active = header_->active.load(std::memory_order_relaxed) & 1;
  const CommitSlot& cur = header_->slots[active];
  CommitSlot& next = header_->slots[active ^ 1];
  std::memcpy(&next, &cur, sizeof next);
  next.bad_records = cur.bad_records + 1;
  next.lane_next_sequence[lane] = std::max(next.lane_next_sequence[lane], sequence + 1);
  header_->active.store(active ^ 1, std::memory_order_release);
}

uint64_t ReplayWindow::bad_records() const {
  return header_->slots[header_->active.load(std::memory_order_acquire) & 1].bad_records;
}

uint64_t ReplayWindow::samples_trained() const {
  return header_->samples_trained.load(std::memory_order_relaxed);
}

void ReplayWindow::add_samples_trained(uint64_t n) {
  header_->samples_trained.store(header_->samples_trained.load(std::memory_order_relaxed) + n,
                                 std::memory_order_relaxed);
}

ReplayWindow::Sample ReplayWindow::target(uint64_t i) const {
  if (i >= targets_in_window_) throw ReplayError("replay sample index out of range");
  uint64_t key = index_.front().targets_before + i;
  // The last entry whose targets_before <= key holds target `key`.
  auto it = std::upper_bound(index_.begin(), index_.end(), key,
                             [](uint64_t k, const Indexed& x) { return k < x.targets_before; });
  --it;
  const uint8_t* p = data_ + it->offset % capacity_;
  EntryHeader e;
  std::memcpy(&e, p, sizeof e);
  uint16_t position;
  std::memcpy(&position, p + sizeof e + 2 * (key - it->targets_before), 2);
  return {p + align8(sizeof e + 2ull * e.targets), e.record_bytes, position, e.lane, e.sequence};
}

uint64_t ReplayWindow::targets_inserted() const {
  return header_->slots[header_->active.load(std::memory_order_acquire) & 1].next_target;
}

ReplayCounts ReplayWindow::counts() const {
  return inspect(reinterpret_cast<uint8_t*>(header_), data_offset() + capacity_);
}

ReplayCounts ReplayWindow::inspect(const uint8_t* region, uint64_t bytes) {
  if (region == nullptr || bytes < data_offset())
    throw ReplayError("learner region too small to hold a replay window");
  const RegionHeader* h = reinterpret_cast<const RegionHeader*>(region);
  if (h->magic.load(std::memory_order_acquire) != kRegionMagic)
    throw ReplayError("learner region holds no replay window (no learner has run yet)");
  if (h->capacity > bytes - data_offset() || h->lanes > kReplayMaxLanes)
    throw ReplayError("learner region header is inconsistent with its size");
  const CommitSlot& slot = h->slots[h->active.load(std::memory_order_acquire) & 1];
  ReplayCounts c;
  c.records_inserted = slot.next_ordinal;
  c.positions_inserted = slot.next_position;
  c.targets_inserted = slot.next_target;
  c.bad_records = slot.bad_records;
  c.samples_trained = h->samples_trained.load(std::memory_order_relaxed);
  c.records_evicted = slot.next_ordinal;
  bool first = true;
  walk(h, region + data_offset(), [&](uint64_t, const EntryHeader& e) {
    if (first) c.records_evicted = e.ordinal;
    first = false;
    c.records_in_window++;
    c.positions_in_window += e.positions;
    c.targets_in_window += e.targets;
  });
  c.lane_next_sequence.assign(slot.lane_next_sequence, slot.lane_next_sequence + h->lanes);
  return c;
}

}  // namespace rz
