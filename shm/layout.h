// The structs that live inside the segment, at offsets given by SegmentLayout. Internal to
// shm/: other modules use the classes in segment.h, trajectory_ring.h, weight_slot.h and
// stats.h.
//
// Rules for everything in this file (checked by static_asserts below):
//   - every std::atomic is a 4- or 8-byte lock-free atomic (lock-based atomics would keep
//     their lock in process-private memory and tear across processes);
//   - words written by different processes live on different 64-byte cache lines;
//   - the first two words of SegmentHeader (magic, layout_version) never move, so any future
//     build can name the version it found.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shm/control.h"
#include "shm/stats.h"

namespace rz::shm {

constexpr size_t kCacheLine = 64;
constexpr uint64_t kSegmentMagic = 0x314d48535a52ull;  // "RZSHM1" little-endian
// The creator's first store into a fresh (all-zero) object: every non-zero byte create()
// writes comes after it, so an object under our name whose magic is neither word and whose
// bytes are not all zero was never ours (see probe_existing in segment.cc).
constexpr uint64_t kCreatingMagic = 0x304d48535a52ull;  // "RZSHM0": being created

struct SegmentHeader {
  std::atomic<uint64_t> magic;  // kCreatingMagic first, kSegmentMagic once ready (release)
  uint32_t layout_version;      // kLayoutVersion of the creating build
  uint32_t header_bytes;        // sizeof(SegmentHeader) of the creating build
  uint64_t total_bytes;         // SegmentLayout::total_bytes
  uint32_t lanes;
  uint32_t stats_slots;
  uint64_t lane_bytes;
  uint64_t max_record_bytes;
  uint64_t weight_bytes;
  uint64_t learner_region_bytes;
  uint32_t creator_pid;
  uint32_t run_info_bytes;
  uint64_t creator_start_ticks;  // /proc/<pid>/stat starttime: tells a reused pid apart
  uint64_t start_time_ns;        // CLOCK_REALTIME at creation
  uint64_t run_token;            // random, chosen by the creator's caller: tells two runs
                                 // that derived the same name apart (never 0 when set)
  std::atomic<uint32_t> creator_mutex_ready;  // 1 once creator_mutex is initialised and held
  alignas(kCacheLine) pthread_mutex_t creator_mutex;  // robust; held by the creator for life
  alignas(kCacheLine) ControlBlock control;
  alignas(kCacheLine) char run_info[1024];
};

// The ring-wide words. consumer_mutex is held by the RingReader for its life.
struct RingHeader {
  alignas(kCacheLine) pthread_mutex_t consumer_mutex;
  std::atomic<uint32_t> consumer_pid;
  // Doorbell: the consumer sets consumer_waiting before sleeping on doorbell; the first
  // producer to commit clears it (exchange), increments doorbell and FUTEX_WAKEs.
  alignas(kCacheLine) std::atomic<uint32_t> doorbell;
  std::atomic<uint32_t> consumer_waiting;
};

// One lane's control words: one cache line per writer (producer, consumer) plus one for the
// owner mutex, so the consumer's head stores never invalidate the producer's tail line.
struct LaneControl {
  // Written only by the lane's producer.
  alignas(kCacheLine) std::atomic<uint64_t> tail;  // bytes committed (monotonic)
  std::atomic<uint64_t> committed_seq;             // records committed (stored after tail)
  std::atomic<uint64_t> pending_end;               // tail the record in flight will have
  std::atomic<uint64_t> pending_seq;               // committed_seq it will have
  std::atomic<uint32_t> producer_waiting;          // 1 while sleeping on space_signal
                                                   // (the consumer clears it to wake us)
  std::atomic<uint32_t> owner_pid;                 // for messages and the monitor only
  // Written only by the consumer.
  alignas(kCacheLine) std::atomic<uint64_t> head;  // bytes consumed (monotonic)
  std::atomic<uint64_t> consumed_seq;              // records consumed (stored before head)
  std::atomic<uint32_t> space_signal;              // futex word the producer sleeps on
  std::atomic<uint32_t> resync;                    // 1 after a corrupt-record skip: the
                                                   // next record that verifies is accepted
                                                   // whatever its sequence (cleared by the
                                                   // next release, stored before head)
  // Lane ownership.
  alignas(kCacheLine) pthread_mutex_t owner_mutex;  // robust; held by the producer for life
};

// Every record and padding marker in a lane starts with this header (16-byte aligned).
struct RecordHeader {
  uint32_t kind;  // kRecordKind or kPaddingKind
  uint32_t size;  // payload bytes (padding: bytes after this header to the lane end)
  uint32_t lane;  // producing lane
  uint32_t reserved;
  uint64_t sequence;  // per-lane record number
  uint64_t checksum;  // checksum64(payload, seed = header fields)
};
constexpr uint32_t kRecordKind = 0x44524352;   // "RCRD"
constexpr uint32_t kPaddingKind = 0x44444150;  // "PADD"
constexpr uint64_t kRecordAlign = 16;
constexpr uint64_t record_span(uint64_t payload) {
  return (sizeof(RecordHeader) + payload + kRecordAlign - 1) & ~(kRecordAlign - 1);
}

struct WeightBufferHeader {
  alignas(kCacheLine) std::atomic<uint64_t> seq;  // odd while being written
  std::atomic<uint64_t> version;
  std::atomic<uint64_t> size;
  std::atomic<uint64_t> layout_tag;
};
struct WeightSlotHeader {
  alignas(kCacheLine) std::atomic<uint64_t> published;  // version << 2 | buffer index
  WeightBufferHeader buffers[3];
};

struct StatsSlot {
  alignas(kCacheLine) std::atomic<uint64_t> key;  // role << 32 | index; 0 = free
  std::atomic<uint32_t> pid;
  std::atomic<uint32_t> state;
  std::atomic<uint32_t> restarts;
  std::atomic<uint32_t> metric_count;  // stored with release after a name
  std::atomic<uint64_t> heartbeat_ns;
  std::atomic<uint32_t> kinds[kMaxMetrics];
  struct Metric {
    char name[24];  // NUL-terminated, written before count
    std::atomic<uint64_t> value;
  } metrics[kMaxMetrics];
};

static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<uint32_t>) == 4 && sizeof(std::atomic<uint64_t>) == 8);
static_assert(sizeof(RecordHeader) == 32);
static_assert(sizeof(pthread_mutex_t) <= kCacheLine);
static_assert(offsetof(SegmentHeader, magic) == 0 && offsetof(SegmentHeader, layout_version) == 8);
static_assert(sizeof(LaneControl) == 3 * kCacheLine);

}  // namespace rz::shm
