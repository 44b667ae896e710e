// The lane protocol. Each step's SIGKILL argument is in docs/shm.md; the comments here say
// why each memory ordering is what it is.
#include "shm/trajectory_ring.h"

#include <fmt/format.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "shm/checksum.h"
#include "shm/fault_hook.h"
#include "shm/layout.h"
#include "shm/sys.h"

namespace rz::shm {

namespace {

using testing::fault_point;
using testing::FaultPoint;

RingHeader* ring_of(const Segment& s) {
  return reinterpret_cast<RingHeader*>(s.base() + s.layout().ring_header);
}
LaneControl* controls_of(const Segment& s) {
  return reinterpret_cast<LaneControl*>(s.base() + s.layout().lane_controls);
}

uint64_t record_seed(const RecordHeader& h) {
  return (uint64_t(h.lane) << 32 | h.size) ^ (h.sequence * 0x9e3779b97f4a7c15ull) ^ h.kind;
}

// Spin for a few microseconds before sleeping: a consumer that is draining frees space (a
// producer mid-record commits) within that time, and a futex round trip costs more than the
// spin. Bounded by time, not iterations: `pause` takes 10 to 140 cycles depending on the CPU.
constexpr auto kSpinTime = std::chrono::microseconds(5);
template <typename Ready>
bool spin_until(Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  do {
    for (int k = 0; k < 8; ++k) sys::cpu_relax();
    if (ready()) return true;
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}
constexpr auto kSleepSlice = std::chrono::milliseconds(50);

// Claims a role's robust mutex for the claimant's whole life (a lane's producer, the ring's
// consumer). Returns whether it was taken over from a dead holder; throws
// ShmError(busy_message()) if a live process holds it.
template <typename Message>
bool claim_for_life(pthread_mutex_t* mutex, Message busy_message) {
  const sys::Claim claim = sys::robust_mutex_try(mutex);
  if (claim == sys::Claim::kBusy) throw ShmError(busy_message());
  return claim == sys::Claim::kFromDead;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// LaneWriter

LaneWriter::LaneWriter(Segment& segment, uint32_t lane) : segment_(segment), lane_(lane) {
  if (segment.read_only())
    throw ShmError(fmt::format("cannot write lane {} of {}: the segment is mapped read-only", lane,
                               segment.name()));
  if (lane >= segment.sizes().lanes)
    throw ShmError(
        fmt::format("lane {} does not exist in {}: it has {} lanes (one per actor "
                    "slot); pass an actor index below that",
                    lane, segment.name(), segment.sizes().lanes));
  control_ = &controls_of(segment)[lane];
  data_ = segment.base() + segment.layout().lane_data + uint64_t(lane) * segment.sizes().lane_bytes;
  capacity_ = segment.sizes().lane_bytes;
  max_record_ = segment.sizes().max_record_bytes;

  took_over_ = claim_for_life(&control_->owner_mutex, [&] {
    return fmt::format(
        "lane {} of {} is owned by live process {}: stop that actor first or use another actor "
        "index",
        lane, segment.name(), control_->owner_pid.load());
  });
  // We own the lane. The previous owner (if any) is dead or exited, so its words are final.
  // Recover the sequence number of the next record (see docs/shm.md, "takeover"):
  // pending_end is stored before pending_seq, pending_seq before the bytes, tail after them,
  // committed_seq after tail.
  tail_ = control_->tail.load(std::memory_order_acquire);
  uint64_t committed = control_->committed_seq.load(std::memory_order_relaxed);
  uint64_t pending_seq = control_->pending_seq.load(std::memory_order_relaxed);
  uint64_t pending_end = control_->pending_end.load(std::memory_order_relaxed);
  next_sequence_ = committed;
  if (pending_seq == committed + 1 && pending_end == tail_) next_sequence_ = pending_seq;
  control_->committed_seq.store(next_sequence_, std::memory_order_relaxed);
  control_->pending_seq.store(next_sequence_, std::memory_order_release);
  control_->pending_end.store(tail_, std::memory_order_relaxed);
  control_->owner_pid.store(uint32_t(::getpid()), std::memory_order_relaxed);
  try {
    head_cache_ = load_head(std::memory_order_acquire);
  } catch (...) {
    sys::robust_mutex_release(&control_->owner_mutex);  // no destructor runs for us
    throw;
  }
}

uint64_t LaneWriter::load_head(std::memory_order order) {
  // The consumer only ever moves head forward to a tail it read, so tail - capacity <= head
  // <= tail. A head outside that window (corrupt shared memory) would make fits() wrap
  // around: free space that is not free, overwriting records not yet consumed.
  const uint64_t head = control_->head.load(order);
  if (head > tail_ || tail_ - head > capacity_)
    throw ShmError(
        fmt::format("lane {} of {} has a corrupt head {} (tail {}, lane_bytes {}): "
                    "the segment is damaged; stop the run (launch.sh stop) and "
                    "start it again",
                    lane_, segment_.name(), head, tail_, capacity_));
  return head;
}

LaneWriter::~LaneWriter() {
  control_->producer_waiting.store(0, std::memory_order_relaxed);
  sys::robust_mutex_release(&control_->owner_mutex);
}

bool LaneWriter::wait_for_space(uint64_t need, const std::atomic<uint32_t>* stop) {
  auto fits = [&] { return capacity_ - (tail_ - head_cache_) >= need; };
  if (fits()) return true;
  // acquire: the consumer finished reading the bytes before head, so we may overwrite them.
  head_cache_ = load_head(std::memory_order_acquire);
  if (!fits())
    spin_until([&] {
      head_cache_ = load_head(std::memory_order_acquire);
      return fits();
    });
  while (!fits()) {
    if (stop && stop->load(std::memory_order_acquire)) return false;
    // Dekker with RingReader::release(): we store producer_waiting then load head; it stores
    // head then loads producer_waiting. With seq_cst on all four, at least one of us sees
    // the other's store, so we never sleep through a release.
    control_->producer_waiting.store(1, std::memory_order_seq_cst);
    uint32_t signal = control_->space_signal.load(std::memory_order_seq_cst);
    head_cache_ = load_head(std::memory_order_seq_cst);
    if (fits()) break;
    sys::futex_wait(&control_->space_signal, signal, kSleepSlice);
    head_cache_ = load_head(std::memory_order_acquire);
  }
  control_->producer_waiting.store(0, std::memory_order_relaxed);
  return true;
}

uint8_t* LaneWriter::reserve(size_t size, const std::atomic<uint32_t>* stop) {
  if (reserved_header_)
    throw ShmError(
        fmt::format("lane {}: reserve() called twice without commit(): commit the "
                    "first record",
                    lane_));
  if (size > max_record_)
    throw ShmError(
        fmt::format("record of {} bytes exceeds max_record_bytes = {} of {}: raise "
                    "max_record_bytes for the run or write smaller records",
                    size, max_record_, segment_.name()));
  const uint64_t span = record_span(size);
  const uint64_t pos = tail_ % capacity_;
  const uint64_t gap = capacity_ - pos;
  const uint64_t pad = gap < span ? gap : 0;  // a record never wraps
  if (!wait_for_space(pad + span, stop)) return nullptr;

  // Announce the record in flight before touching its bytes: pending_end first, then
  // pending_seq with release (so pending_end cannot be reordered after it). A takeover
  // compares them with tail to learn whether this record got committed.
  control_->pending_end.store(tail_ + pad + span, std::memory_order_relaxed);
  control_->pending_seq.store(next_sequence_ + 1, std::memory_order_release);

  uint8_t* rec = data_ + pos;
  if (pad) {
    if (pad >= sizeof(RecordHeader)) {  // else: an implicit gap the consumer skips too
      RecordHeader ph{
          kPaddingKind, uint32_t(pad - sizeof(RecordHeader)), lane_, 0, next_sequence_, 0};
      std::memcpy(rec, &ph, sizeof ph);
    }
    rec = data_;
  }
  reserved_header_ = rec;
  reserved_size_ = size;
  reserved_end_ = tail_ + pad + span;
  return rec + sizeof(RecordHeader);
}

void LaneWriter::commit() {
  if (!reserved_header_)
    throw ShmError(fmt::format("lane {}: commit() without reserve(): reserve first", lane_));
  RecordHeader h{kRecordKind, uint32_t(reserved_size_), lane_, 0, next_sequence_, 0};
  commit_with_checksum(checksum64(reserved_header_ + sizeof h, reserved_size_, record_seed(h)));
}

void LaneWriter::commit_with_checksum(uint64_t checksum) {
  RecordHeader h{kRecordKind, uint32_t(reserved_size_), lane_, 0, next_sequence_, checksum};
  std::memcpy(reserved_header_, &h, sizeof h);
  reserved_header_ = nullptr;
  publish(reserved_end_);
}

bool LaneWriter::write(const void* data, size_t size, const std::atomic<uint32_t>* stop) {
  uint8_t* dst = reserve(size, stop);
  if (!dst) return false;
  if (testing::fault_hook_set()) {
    std::memcpy(dst, data, size / 2);
    fault_point(FaultPoint::kMidCopy, next_sequence_);
    std::memcpy(dst + size / 2, static_cast<const uint8_t*>(data) + size / 2, size - size / 2);
    commit();
    return true;
  }
  // One pass: copy into the lane and checksum the source as we go.
  RecordHeader h{kRecordKind, uint32_t(size), lane_, 0, next_sequence_, 0};
  commit_with_checksum(copy_and_checksum64(dst, data, size, record_seed(h)));
  return true;
}

void LaneWriter::publish(uint64_t new_tail) {
  fault_point(FaultPoint::kBeforeTailStore, next_sequence_);
  // The commit point. Release: the consumer's acquire load of tail sees every byte of the
  // record. seq_cst: the Dekker pairing with RingReader::wait() (we store tail, then load
  // consumer_waiting; it stores consumer_waiting, then loads tail).
  control_->tail.store(new_tail, std::memory_order_seq_cst);
  fault_point(FaultPoint::kAfterTailStore, next_sequence_);
  // release: keeps the tail store before this one, which the takeover logic relies on.
  control_->committed_seq.store(next_sequence_ + 1, std::memory_order_release);
  tail_ = new_tail;
  ++next_sequence_;
  // Ring the doorbell only if the consumer is (about to be) asleep, and only once: the
  // exchange clears the flag, so the records that follow while the woken consumer is still
  // being scheduled do not each pay a FUTEX_WAKE syscall.
  RingHeader* ring = ring_of(segment_);
  if (ring->consumer_waiting.load(std::memory_order_seq_cst) &&
      ring->consumer_waiting.exchange(0, std::memory_order_seq_cst)) {
    ring->doorbell.fetch_add(1, std::memory_order_seq_cst);
    sys::futex_wake(&ring->doorbell, INT_MAX);
  }
}

// ---------------------------------------------------------------------------------------
// RingReader

RingReader::RingReader(Segment& segment) : segment_(segment) {
  if (segment.read_only())
    throw ShmError(
        fmt::format("cannot consume the ring of {}: the segment is mapped "
                    "read-only",
                    segment.name()));
  ring_ = ring_of(segment);
  controls_ = controls_of(segment);
  data_ = segment.base() + segment.layout().lane_data;
  capacity_ = segment.sizes().lane_bytes;
  max_record_ = segment.sizes().max_record_bytes;
  lanes_ = segment.sizes().lanes;
  took_over_ = claim_for_life(&ring_->consumer_mutex, [&] {
    return fmt::format(
        "the ring of {} already has a live consumer, process {}: stop that learner first",
        segment.name(), ring_->consumer_pid.load());
  });
  ring_->consumer_pid.store(uint32_t(::getpid()), std::memory_order_relaxed);
  cursors_.resize(lanes_);
  for (uint32_t l = 0; l < lanes_; ++l) {
    LaneCursor& c = cursors_[l];
    c.head = controls_[l].head.load(std::memory_order_relaxed);
    c.expected_seq = controls_[l].consumed_seq.load(std::memory_order_relaxed);
    c.ahead = c.head;
    c.ahead_seq = c.expected_seq;
    // A consumer killed after skipping a corrupt stretch (and before releasing the next
    // record) left the lane in resync: its consumed_seq is not the next record's sequence.
    if (controls_[l].resync.load(std::memory_order_relaxed)) {
      c.resync = c.head_resync = true;
      continue;
    }
    // A consumer killed between storing consumed_seq (= s + 1) and head leaves head at
    // record s - or, after release_through() of several records, at an earlier one: then
    // the record at head carries a sequence below consumed_seq and is read again from there
    // (a consumer that already forwarded it, the relay, has its receiver drop the repeat).
    // Look at it accepting any sequence (resync); everything else is verified as usual.
    const uint64_t consumed = c.expected_seq;
    c.resync = true;
    const Scan at_head = try_lane(l);
    if (at_head.kind == Scan::kCorrupt) {
      skip_lane(l, at_head.end);  // stays in resync
      continue;
    }
    c.resync = c.head_resync = false;
    c.expected_seq = (at_head.kind == Scan::kRecord && at_head.record.sequence < consumed)
                         ? at_head.record.sequence
                         : consumed;
    c.ahead = c.head;
    c.ahead_seq = c.expected_seq;
  }
}

RingReader::~RingReader() {
  sys::robust_mutex_release(&ring_->consumer_mutex);
}

void RingReader::skip_lane(uint32_t lane, uint64_t tail) {
  // A header failed verification: the lane's bytes up to tail cannot be trusted to
  // delimit records. Drop them (they are committed, so the producer is past them) and
  // accept the next record that verifies, whatever its sequence.
  ++corrupt_skipped_;
  LaneCursor& c = cursors_[lane];
  if (!c.ahead_ends.empty()) {
    // Records before the stretch are read ahead and not yet released (in flight to a remote
    // host): the shared head must not pass them. Skip for reading only; release_through of a
    // record after the stretch moves head past it, and a rewind (or a consumer taking over)
    // meets the stretch again and skips it then.
    c.ahead = tail;
    c.resync = true;
    return;
  }
  c.head = tail;
  c.ahead = tail;
  c.ahead_ends.clear();
  c.resync = c.head_resync = true;
  // In shared memory too, before head (advance_head's seq_cst store keeps it there): a
  // consumer that takes over after us must not expect consumed_seq from the record at the new
  // head.
  controls_[lane].resync.store(1, std::memory_order_relaxed);
  advance_head(lane, tail);
}

void RingReader::advance_head(uint32_t lane, uint64_t new_head) {
  LaneControl& lc = controls_[lane];
  // release: we are done reading the bytes before new_head before the producer may reuse
  // them, and the words our callers store first (consumed_seq, the resync word) stay before
  // it. seq_cst: the Dekker pairing with LaneWriter::wait_for_space().
  lc.head.store(new_head, std::memory_order_seq_cst);
  // Wake a sleeping producer once (the exchange clears its flag; it sets it again before
  // its next sleep).
  if (lc.producer_waiting.load(std::memory_order_seq_cst) &&
      lc.producer_waiting.exchange(0, std::memory_order_seq_cst)) {
    lc.space_signal.fetch_add(1, std::memory_order_seq_cst);
    sys::futex_wake(&lc.space_signal, 1);
  }
}

void RingReader::consume_through(uint32_t lane, uint64_t last_sequence, uint64_t end,
                                 bool was_resync) {
  LaneControl& lc = controls_[lane];
  // consumed_seq before head (advance_head's seq_cst store keeps it there): a restart that
  // finds consumed_seq one ahead of the record at head knows we died between the two.
  lc.consumed_seq.store(last_sequence + 1, std::memory_order_relaxed);
  // After consumed_seq: killed between the two, the resync flag still accepts the record at
  // head, whose sequence is consumed_seq - 1. Nothing on the common path: our own cursor
  // says whether the lane is in resync.
  if (__builtin_expect(was_resync, 0)) lc.resync.store(0, std::memory_order_relaxed);
  fault_point(FaultPoint::kConsumerBeforeHeadStore, last_sequence);
  advance_head(lane, end);
}

RingReader::Scan RingReader::try_lane(uint32_t lane) const {
  const LaneCursor& c = cursors_[lane];
  // acquire: pairs with the producer's tail store; every byte before tail is readable.
  const uint64_t tail = controls_[lane].tail.load(std::memory_order_acquire);
  const Scan corrupt{Scan::kCorrupt, {}, tail};
  uint64_t h = c.ahead;
  if (tail - h > capacity_ || tail < h) return corrupt;  // claims more than the lane holds
  const uint8_t* lane_data = data_ + uint64_t(lane) * capacity_;
  while (h < tail) {
    const uint64_t pos = h % capacity_;
    const uint64_t gap = capacity_ - pos;
    if (gap < sizeof(RecordHeader)) {  // implicit gap at the lane end
      h += gap;
      continue;
    }
    RecordHeader hdr;
    std::memcpy(&hdr, lane_data + pos, sizeof hdr);  // read once, then verify the copy
    if (hdr.kind == kPaddingKind && hdr.size == gap - sizeof hdr && h + gap < tail) {
      h += gap;
      continue;
    }
    const uint64_t span = record_span(hdr.size);
    bool ok = hdr.kind == kRecordKind && hdr.size <= max_record_ && span <= gap &&
              span <= tail - h && hdr.lane == lane && (c.resync || hdr.sequence == c.ahead_seq) &&
              checksum64(lane_data + pos + sizeof hdr, hdr.size, record_seed(hdr)) == hdr.checksum;
    if (!ok) return corrupt;
    return Scan{Scan::kRecord, Record{lane, hdr.sequence, lane_data + pos + sizeof hdr, hdr.size},
                h + span};
  }
  // Padding or a gap is always committed together with the record after it; a tail that
  // ends right after one is not something a producer writes. Skip it, or wait() would keep
  // reporting data that peek() never returns.
  if (h != c.ahead) return corrupt;
  return Scan{};
}

std::optional<RingReader::Scan> RingReader::next_record() {
  for (uint32_t i = 0; i < lanes_; ++i) {
    uint32_t lane = next_lane_ + i < lanes_ ? next_lane_ + i : next_lane_ + i - lanes_;
    const Scan found = try_lane(lane);
    if (found.kind == Scan::kCorrupt) skip_lane(lane, found.end);
    if (found.kind == Scan::kRecord) {
      next_lane_ = lane + 1 == lanes_ ? 0 : lane + 1;
      return found;
    }
  }
  return std::nullopt;
}

std::optional<RingReader::Record> RingReader::peek() {
  if (held_) return held_;
  const std::optional<Scan> found = next_record();
  if (!found) return std::nullopt;
  held_ = found->record;
  held_end_ = found->end;
  return held_;
}

void RingReader::release(const Record& record) {
  if (!held_ || held_->lane != record.lane || held_->sequence != record.sequence)
    throw ShmError(
        "RingReader::release() of a record that is not the one held: release the "
        "record last returned by peek()");
  LaneCursor& c = cursors_[record.lane];
  const bool was_resync = c.resync;  // the lane's shared resync word is set only if ours is
  c.head = held_end_;
  c.expected_seq = record.sequence + 1;
  c.ahead = c.head;
  c.ahead_seq = c.expected_seq;
  c.resync = c.head_resync = false;
  held_.reset();
  consume_through(record.lane, record.sequence, c.head, was_resync);
}

std::optional<RingReader::Record> RingReader::read_ahead() {
  // Nothing is held in this mode: the lane's read position moves on instead.
  const std::optional<Scan> found = next_record();
  if (!found) return std::nullopt;
  const Record& r = found->record;
  LaneCursor& c = cursors_[r.lane];
  c.ahead = found->end;
  c.ahead_seq = r.sequence + 1;
  c.resync = false;
  c.ahead_ends.emplace_back(r.sequence, found->end);
  return r;
}

void RingReader::release_through(uint32_t lane, uint64_t sequence) {
  if (lane >= lanes_) throw ShmError("RingReader::release_through(): lane out of range");
  LaneCursor& c = cursors_[lane];
  size_t n = 0;
  while (n < c.ahead_ends.size() && c.ahead_ends[n].first <= sequence) ++n;
  if (n == 0) return;  // nothing of that lane read ahead up to `sequence` (or skipped since)
  const uint64_t end = c.ahead_ends[n - 1].second;
  const uint64_t seq = c.ahead_ends[n - 1].first;
  c.ahead_ends.erase(c.ahead_ends.begin(), c.ahead_ends.begin() + static_cast<long>(n));
  const bool was_resync = c.head_resync;
  c.head = end;
  c.expected_seq = seq + 1;
  c.head_resync = false;
  // The same stores in the same order as release() (the restart rule in the constructor).
  consume_through(lane, seq, end, was_resync);
}

void RingReader::rewind() {
  for (LaneCursor& c : cursors_) {
    c.ahead = c.head;
    c.ahead_seq = c.expected_seq;
    c.resync = c.head_resync;
    c.ahead_ends.clear();
  }
  held_.reset();
}

bool RingReader::wait(std::chrono::milliseconds timeout) {
  auto any_data = [&] {
    if (held_) return true;
    for (uint32_t l = 0; l < lanes_; ++l)
      if (controls_[l].tail.load(std::memory_order_seq_cst) != cursors_[l].ahead) return true;
    return false;
  };
  if (any_data()) return true;
  // A producer in the middle of a record commits within microseconds: a short bounded spin
  // saves both sides a futex round trip (the producer's wake syscall is the expensive part).
  if (spin_until(any_data)) return true;
  ring_->consumer_waiting.store(1, std::memory_order_seq_cst);
  uint32_t bell = ring_->doorbell.load(std::memory_order_seq_cst);
  bool ready = any_data();
  if (!ready) {
    sys::futex_wait(&ring_->doorbell, bell, timeout);
    ready = any_data();
  }
  ring_->consumer_waiting.store(0, std::memory_order_relaxed);
  return ready;
}

namespace {
LaneStatus status_of(uint32_t lane, const LaneControl& c) {
  LaneStatus s;
  s.lane = lane;
  s.head = c.head.load(std::memory_order_acquire);
  s.tail = c.tail.load(std::memory_order_acquire);
  s.records_committed = c.committed_seq.load(std::memory_order_relaxed);
  s.records_consumed = c.consumed_seq.load(std::memory_order_relaxed);
  s.bytes_in_flight = s.tail >= s.head ? s.tail - s.head : 0;
  s.owner_pid = c.owner_pid.load(std::memory_order_relaxed);
  // The owner mutex cannot be probed on a read-only mapping; /proc with a zombie check
  // is the best a reader can do. Writers decide ownership through the mutex only.
  s.owner_alive = s.owner_pid != 0 && sys::process_alive(s.owner_pid, 0);
  return s;
}
}  // namespace

std::vector<LaneStatus> lane_status(const Segment& segment) {
  std::vector<LaneStatus> out;
  const LaneControl* controls = controls_of(segment);
  for (uint32_t l = 0; l < segment.sizes().lanes; ++l) out.push_back(status_of(l, controls[l]));
  return out;
}

}  // namespace rz::shm
