// ReplayWindow: the learner's replay buffer, kept in the segment's learner region so that it
// outlives the learner process.
//
// It holds the newest validated trajectory records (at most `max_positions` positions, and
// as many as fit in the region's bytes) in a byte ring of entries, each entry being
//   EntryHeader (lane, sequence, ordinal, positions, ...) | u16 target positions | record
// where the target positions are the indices of the game's full-search positions (the only
// ones that are training targets) and the record is the ring record's bytes, verbatim.
//
// No loss across a learner crash (docs/learner.md has the full argument). The learner moves
// a record from its lane into the window in this order:
//   1. evict  the oldest entries until the new one fits: one release store of `head`
//             BEFORE any byte of theirs is overwritten;
//   2. copy   the entry to the free bytes beyond the committed tail (invisible to readers);
//   3. commit one release store of the `active` word, switching to a commit slot that was
//             filled before: {tail, next ordinal, next position, last sequence per lane};
//   4. release the ring record (RingReader::release) only after the commit.
// A SIGKILL before 3 leaves the window as it was and the record in its lane; after 3 and
// before 4 the record is in both, and the restarted learner skips it because its sequence
// is <= the committed last sequence of its lane (insert_if_new is idempotent). So every
// committed ring record is, at every instant, in the window, still in its lane, or was
// evicted by age, and the counts are derivable from the committed state alone:
//   inserted = next_ordinal, evicted = ordinal of the oldest entry (or next_ordinal if empty).
//
// Single writer (the learner; the RingReader's consumer mutex guarantees one at a time).
// Readers in other processes (tests, monitor) use inspect() on a quiet region.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

namespace rz {

struct ReplayError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Upper bound on lanes the window tracks sequences for (= actor slots).
constexpr uint32_t kReplayMaxLanes = 256;

// Counts of a region, derivable from its committed state alone (samples_trained: from the
// region's counter).
struct ReplayCounts {
  uint64_t records_inserted = 0;  // ever, in this segment
  uint64_t records_evicted = 0;   // dropped out of the window by age
  uint64_t records_in_window = 0;
  uint64_t positions_inserted = 0;
  uint64_t targets_inserted = 0;  // full-search positions ever inserted
  uint64_t positions_in_window = 0;
  uint64_t targets_in_window = 0;  // full-search positions in the window
  uint64_t bad_records = 0;        // records refused by validation, ever, in this segment
  uint64_t samples_trained = 0;    // samples trained on this region, ever, in this segment
  std::vector<uint64_t> lane_next_sequence;  // per lane: 1 + last inserted sequence (0 = none)
};

// Bytes of region a window of `max_positions` positions needs when records average at most
// `bytes_per_position` and the largest record is `max_record_bytes`.
uint64_t replay_region_bytes(uint64_t max_positions, uint64_t bytes_per_position,
                             uint64_t max_record_bytes);

class ReplayWindow {
 public:
  // Attaches to `region` (`bytes` long). A region never formatted (all zero, as a fresh
  // segment is) is formatted here; a region formatted for another game (`game_tag`) or lane
  // count is refused with ReplayError. `max_positions` may differ from the last learner's.
  ReplayWindow(uint8_t* region, uint64_t bytes, uint64_t max_positions, uint32_t lanes,
               uint64_t game_tag);

  // True if (lane, sequence) is already in the window or was evicted (sequence at or below
  // the lane's last inserted one): the ring still held it because a learner was killed
  // between commit and release.
  bool contains(uint32_t lane, uint64_t sequence) const;

  // Copies a validated record into the window and commits it (steps 1-3 above). `targets`
  // lists the full-search position indices (< positions). Throws ReplayError if the record
  // cannot fit in the region at all.
  void insert(uint32_t lane, uint64_t sequence, const uint8_t* record, uint32_t size,
              uint32_t positions, const std::vector<uint16_t>& targets);

  // Commits a record that failed validation: no entry, but bad_records + 1 and the lane's
  // sequence marked consumed in ONE commit, so that a learner killed before releasing the
  // record finds it contains()ed and skips it instead of counting it again.
  void skip_bad(uint32_t lane, uint64_t sequence);
  uint64_t bad_records() const;

  // Samples trained on this region's positions since the segment was made (kept in the
  // region, so a restarted learner continues the count). The rate limiter compares it with
  // targets_inserted(): both counts belong to this segment, whatever the checkpoint's step.
  uint64_t samples_trained() const;
  void add_samples_trained(uint64_t n);

  // A sample: the record holding the position, and the position's index in its game.
  struct Sample {
    const uint8_t* record;  // valid until the next insert()
    uint32_t size;
    uint32_t position;
    uint32_t lane;
    uint64_t sequence;
  };
  // Target number `i` in [0, counts().targets_in_window): uniform i gives uniform sampling
  // over the window's full-search positions.
  Sample target(uint64_t i) const;

  uint64_t targets() const { return targets_in_window_; }
  // Full-search positions ever inserted into this region (survives learner restarts).
  uint64_t targets_inserted() const;
  uint64_t positions() const { return positions_in_window_; }
  ReplayCounts counts() const;

  // Counts of a region formatted by a ReplayWindow, read without modifying it (a stopped
  // learner's region, for tests and tools). Throws ReplayError if it is not formatted.
  static ReplayCounts inspect(const uint8_t* region, uint64_t bytes);

 private:
  struct Indexed {
    uint64_t offset;          // logical offset of the entry
    uint64_t targets_before;  // cumulative targets before this entry (this process's count)
    uint32_t positions;
    uint32_t targets;
  };
  void rebuild_index();
  void evict_oldest();

  struct RegionHeader* header_;
  uint8_t* data_;
  uint64_t capacity_;
  uint64_t max_positions_;
  uint32_t lanes_;
  std::deque<Indexed> index_;
  uint64_t targets_cumulative_ = 0;
  uint64_t targets_in_window_ = 0;
  uint64_t positions_in_window_ = 0;
};

}  // namespace rz
