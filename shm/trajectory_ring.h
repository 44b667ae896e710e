// TrajectoryRing: variable-length records from many actor processes to one learner.
//
// One single-producer / single-consumer lane per actor slot. A lane is a byte ring of
// lane_bytes with two 64-bit monotonically increasing byte counters:
//   tail  written only by the lane's producer, with a release store after the record's
//         bytes are in place: everything before tail is committed.
//   head  written only by the consumer, after it has finished with a record: everything
//         before head may be overwritten.
// A record is a 32-byte RecordHeader (kind, size, lane, sequence, checksum) followed by the
// payload, padded to 16 bytes. A record never wraps: if it does not fit before the end of
// the lane, the producer writes a padding marker (or, if fewer than 32 bytes remain, leaves
// an implicit gap) and the record starts at offset 0, so a zero-copy view is one span.
//
// Crash safety: a producer killed at any instant leaves its half-written bytes beyond its
// committed tail, where nobody reads; the consumer's head and per-lane sequence are in
// shared memory, so a restarted consumer continues exactly where the last one stopped. The
// consumer never trusts a header: it bounds-checks size, lane, sequence and checksum and on
// failure skips the lane to its tail and counts the skip. Full details and the SIGKILL
// argument for every step are in docs/shm.md.
//
// Waiting never busy-spins: a producer facing a full lane spins briefly and then sleeps on a
// (process-shared) futex the consumer rings when it frees space; the consumer sleeps on a
// ring-wide doorbell the producers ring only while it is asleep.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "shm/segment.h"

namespace rz::shm {

// Writes records into one lane. Owns the lane for its whole life through a process-shared
// robust mutex: a restarted actor takes over the lane of a dead one (continuing its
// sequence numbers after the last committed record); a lane owned by a live process is
// refused with ShmError. One LaneWriter per thread; not thread-safe.
class LaneWriter {
 public:
  LaneWriter(Segment& segment, uint32_t lane);
  ~LaneWriter();
  LaneWriter(const LaneWriter&) = delete;
  LaneWriter& operator=(const LaneWriter&) = delete;

  // Copies one record of `size` bytes into the lane and commits it. Blocks while the lane is
  // full. Returns false, with nothing written, if *stop becomes nonzero while waiting
  // (never without `stop`). Throws ShmError if size > max_record_bytes.
  [[nodiscard]] bool write(const void* data, size_t size,
                           const std::atomic<uint32_t>* stop = nullptr);

  // Zero-copy write: reserve() returns a pointer to `size` writable payload bytes in the
  // lane (blocking like write(); nullptr if *stop became nonzero), commit() publishes them.
  // At most one reservation at a time; the payload must be fully written before commit().
  [[nodiscard]] uint8_t* reserve(size_t size, const std::atomic<uint32_t>* stop = nullptr);
  void commit();

  uint32_t lane() const { return lane_; }
  uint64_t next_sequence() const { return next_sequence_; }
  // True if this writer took the lane over from a dead process.
  bool took_over() const { return took_over_; }

 private:
  bool wait_for_space(uint64_t need, const std::atomic<uint32_t>* stop);
  // The consumer's head, checked against our tail (ShmError if shared memory is corrupt).
  uint64_t load_head(std::memory_order order);
  void publish(uint64_t new_tail);
  void commit_with_checksum(uint64_t checksum);
  Segment& segment_;
  uint32_t lane_;
  struct LaneControl* control_;
  uint8_t* data_;
  uint64_t capacity_;
  uint64_t max_record_;
  uint64_t tail_ = 0;        // local copy of our tail
  uint64_t head_cache_ = 0;  // last head we read (the consumer only moves it forward)
  uint64_t next_sequence_ = 0;
  bool took_over_ = false;
  // Pending reservation (reserve/commit).
  uint8_t* reserved_header_ = nullptr;
  uint64_t reserved_size_ = 0;
  uint64_t reserved_end_ = 0;
};

// The single consumer of all lanes. Claims the consumer role through a robust mutex for its
// life (takes over from a dead consumer; throws ShmError if a live one holds it).
class RingReader {
 public:
  explicit RingReader(Segment& segment);
  ~RingReader();
  RingReader(const RingReader&) = delete;
  RingReader& operator=(const RingReader&) = delete;

  struct Record {
    uint32_t lane;
    uint64_t sequence;    // per-lane record number, 0, 1, 2, ...
    const uint8_t* data;  // zero-copy view into the lane, valid until release()
    uint32_t size;
  };

  // The next committed record, visiting lanes round-robin; std::nullopt if none is ready.
  // The header and checksum are verified first. Until release() is called, peek() returns
  // the same record again (one record is held at a time).
  [[nodiscard]] std::optional<Record> peek();
  // Frees the held record's bytes (advances its lane's head in shared memory) and wakes that
  // lane's producer if it is waiting for space.
  void release(const Record& record);
  // Sleeps on the ring's doorbell until some lane may have data or the timeout passes.
  // Returns true if some lane has data. No busy spinning.
  bool wait(std::chrono::milliseconds timeout);

  // Pipelined consumption (the scale-out relay, docs/scale-out.md): read_ahead() returns the
  // next verified record after every record it already returned, WITHOUT releasing anything,
  // so many records can be in flight to a remote host at once; their views stay valid until
  // release_through() frees them. release_through(lane, sequence) frees every record of
  // `lane` up to and including `sequence` (one returned by read_ahead, in lane order);
  // rewind() forgets what was read ahead, so the next read_ahead() starts again at the
  // oldest unreleased record (after a failed send), in the resync state the lane had there.
  // A corrupt stretch met while records of its lane are read ahead and unreleased is skipped
  // for reading only: the shared head never passes a record not yet released (it moves past
  // the stretch with the next release_through beyond it). Do not mix with peek()/release().
  [[nodiscard]] std::optional<Record> read_ahead();
  void release_through(uint32_t lane, uint64_t sequence);
  void rewind();

  uint64_t corrupt_records_skipped() const { return corrupt_skipped_; }
  // True if this reader took over the consumer role from a dead process.
  bool took_over() const { return took_over_; }

 private:
  struct LaneCursor {
    uint64_t head = 0;          // our copy of the lane's head
    uint64_t expected_seq = 0;  // sequence of the next record
    bool resync = false;        // after a skip: accept the next valid record's sequence
    // Whether the lane is in resync AT HEAD (resync above is at the read position): rewind()
    // restores it, so re-reading from head accepts that record's sequence again.
    bool head_resync = false;
    // Read position: equal to head/expected_seq except while records are read ahead.
    uint64_t ahead = 0, ahead_seq = 0;
    std::vector<std::pair<uint64_t, uint64_t>> ahead_ends;  // (sequence, end) read ahead
  };
  // What a lane holds at its read position. try_lane() only looks (nothing changes, in our
  // cursor or in shared memory); next_record() acts on what it finds.
  struct Scan {
    enum Kind { kNothing, kRecord, kCorrupt } kind = kNothing;
    Record record{};   // kRecord: the verified record
    uint64_t end = 0;  // kRecord: the position after it; kCorrupt: the lane's tail
  };
  Scan try_lane(uint32_t lane) const;
  // The first lane, round-robin from next_lane_, with a verified record at its read position
  // (next_lane_ moves past it); a corrupt stretch met on the way is skipped (skip_lane).
  std::optional<Scan> next_record();
  // Drops a lane's bytes up to `tail` after a header failed verification.
  void skip_lane(uint32_t lane, uint64_t tail);
  // Frees a lane's records up to `end`, the last of them `last_sequence` (release() and
  // release_through()): consumed_seq, then the resync word if it was set, then advance_head.
  void consume_through(uint32_t lane, uint64_t last_sequence, uint64_t end, bool was_resync);
  // The one way the shared head moves: stores it, then wakes the lane's producer if it sleeps
  // waiting for space.
  void advance_head(uint32_t lane, uint64_t new_head);
  Segment& segment_;
  struct RingHeader* ring_;
  struct LaneControl* controls_;
  uint8_t* data_;
  uint64_t capacity_;
  uint64_t max_record_;
  uint32_t lanes_;
  uint32_t next_lane_ = 0;
  std::vector<LaneCursor> cursors_;
  std::optional<Record> held_;
  uint64_t held_end_ = 0;  // head after the held record
  uint64_t corrupt_skipped_ = 0;
  bool took_over_ = false;
};

// Read-only view of every lane for the monitor (works on a read-only mapping).
struct LaneStatus {
  uint32_t lane;
  uint64_t head, tail;
  uint64_t records_committed, records_consumed;
  uint64_t bytes_in_flight;
  bool owner_alive;
  uint32_t owner_pid;
};
std::vector<LaneStatus> lane_status(const Segment& segment);

}  // namespace rz::shm
