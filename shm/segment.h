// Segment: the one named POSIX shared-memory segment of a run.
//
// The segment is created by the run's supervisor (the launcher) and opened by every actor,
// the learner and the monitor. Its content is a fixed offset layout computed from the run's
// SegmentSizes at creation time (no allocator at run time: Boost's managed_shared_memory
// keeps a non-robust mutex, and a process killed inside it would hang all others):
//
//   +--------------------+ 0
//   | SegmentHeader      |  magic (stored last), layout version, sizes, creator pid, start
//   |  + ControlBlock    |  time, run_info, creator's robust mutex, the ControlBlock
//   +--------------------+
//   | ring header        |  consumer's robust mutex, doorbell futex
//   | lane controls [L]  |  per lane: tail (producer), head (consumer), owner mutex
//   | lane bytes [L]     |  L byte rings of lane_bytes each
//   +--------------------+
//   | weight slot        |  published word + 3 buffers of weight_bytes
//   +--------------------+
//   | stats table        |  stats_slots per-process slots
//   +--------------------+
//   | learner region     |  learner_region_bytes, opaque to shm (the learner's replay
//   +--------------------+  window lives here so that it survives a learner crash)
//
// Crash-safe creation: the object is created with O_EXCL and mode 0600, sized, its storage
// reserved with posix_fallocate (a full /dev/shm is a ShmError at create, never a SIGBUS
// later), initialised, and only then is the ready magic stored with release; openers load
// it with acquire, so a half-initialised segment is never mistaken for a ready one. The
// creator holds a process-shared robust mutex for its whole life; a later create() of the
// same name reclaims (unlinks and re-creates) the segment if that mutex reports its owner
// dead, and refuses with a ShmError naming the live pid otherwise. An object without our
// magic (other than an all-zero one) is foreign: refused, never removed. See docs/shm.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "shm/control.h"
#include "shm/shm_error.h"

namespace rz::shm {

// Current layout version. Bump whenever any struct in the segment changes.
constexpr uint32_t kLayoutVersion = 2;
constexpr size_t kMaxRunInfoBytes = 1024;

struct SegmentSizes {
  uint32_t lanes = 4;                    // one TrajectoryRing lane per actor slot
  uint64_t lane_bytes = 8u << 20;        // bytes of each lane's byte ring
  uint64_t max_record_bytes = 1u << 20;  // largest record payload (>= 1 MiB allowed)
  uint64_t weight_bytes = 16u << 20;     // largest weight blob
  uint32_t stats_slots = 64;             // per-process stats slots
  uint64_t learner_region_bytes = 0;     // opaque learner-owned bytes

  // Throws ShmError naming the first bad field and its allowed range. A lane must hold two
  // maximum records with their headers (a record never wraps, so up to one record's worth
  // can be lost to end-of-lane padding).
  void validate() const;
};

// Byte offsets of every region, computed from the sizes alone (the same sizes always give
// the same layout). Exposed for tests, the monitor and docs.
struct SegmentLayout {
  uint64_t header = 0;
  uint64_t ring_header = 0;
  uint64_t lane_controls = 0;
  uint64_t lane_data = 0;
  uint64_t weight_slot = 0;
  uint64_t weight_buffers = 0;
  uint64_t stats = 0;
  uint64_t learner_region = 0;
  uint64_t total_bytes = 0;
  static SegmentLayout compute(const SegmentSizes& sizes);
};

class Segment {
 public:
  // Creates the segment `name` ("/rz-myrun" or "rz-myrun"), mode 0600, with all of its
  // memory reserved. Reclaims a segment left by a dead creator; throws ShmError if a live
  // process created it, the object under that name is not ours, /dev/shm lacks the space,
  // or the sizes are invalid. The calling thread holds the creator mutex until the Segment is
  // destroyed, so create from the thread that lives as long as the run (normally main). `run_token`
  // (see new_run_token) is recorded in the header: whoever later finds a segment under this name
  // can tell whether it is their run's (stop removes only its own).
  static std::unique_ptr<Segment> create(const std::string& name, const SegmentSizes& sizes,
                                         const std::string& run_info, uint64_t run_token = 0);
  // A random non-zero 64-bit token (getrandom).
  static uint64_t new_run_token();
  // Opens an existing, fully created segment. Validates magic, layout version, and the
  // recorded sizes against the mapped size; waits up to ~1 s for a segment still being
  // created. Throws ShmError with a one-line message on any mismatch.
  static std::unique_ptr<Segment> open(const std::string& name, bool read_only = false);
  // Unlinks the name (processes that have it mapped keep their mapping). Returns false if
  // there was no such segment.
  static bool remove(const std::string& name);
  // True if a segment `name` exists and its creator is still alive (decided by the creator's
  // robust mutex whenever the object can be mapped writable, never by /proc alone).
  static bool creator_alive(const std::string& name);

  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const std::string& name() const { return name_; }  // always with the leading '/'
  const SegmentSizes& sizes() const { return sizes_; }
  const SegmentLayout& layout() const { return layout_; }
  // Copied and bounds-checked once when the segment is opened: never re-read from shm.
  const std::string& run_info() const { return run_info_; }
  uint64_t run_token() const { return run_token_; }
  uint32_t creator_pid() const;
  uint64_t start_time_ns() const;  // CLOCK_REALTIME ns since the epoch, set at creation
  bool read_only() const { return read_only_; }
  // True while the creating process is alive. On a writable mapping the robust mutex decides
  // (a pid in another pid namespace, or no /proc at all, changes nothing); a read-only
  // mapping cannot probe it and falls back to the /proc pid + start time.
  bool creator_alive() const;

  ControlBlock& control();
  const ControlBlock& control() const;
  uint8_t* learner_region();
  const uint8_t* learner_region() const;
  uint64_t learner_region_bytes() const { return sizes_.learner_region_bytes; }

  // Raw base of the mapping, for the structures in this folder.
  uint8_t* base() const { return base_; }
  uint64_t mapped_bytes() const { return mapped_bytes_; }

 private:
  struct Impl;
  Segment(std::string name, bool read_only);
  std::string name_;
  bool read_only_ = false;
  bool is_creator_ = false;
  uint8_t* base_ = nullptr;
  uint64_t mapped_bytes_ = 0;
  SegmentSizes sizes_;
  SegmentLayout layout_;
  std::string run_info_;
  uint64_t run_token_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rz::shm
