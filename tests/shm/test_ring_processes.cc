// TrajectoryRing across real processes: a 3 x 100k stress run, producers SIGKILLed at
// chosen instants (mid-copy, just before and just after the tail store) and at random
// instants, and a consumer SIGKILLed mid-stream. Every child is a fork of this test.
#include <fcntl.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <thread>

#include "shm/fault_hook.h"
#include "shm/layout.h"
#include "shm/trajectory_ring.h"
#include "tests/shm/shm_test_util.h"

using namespace rz::shm;
using namespace rz::shm::test;
using testing::FaultPoint;

namespace {

// Writes records seq = w.next_sequence() ... < until into `lane`. Used by producer children.
int produce(Segment& seg, uint32_t lane, uint64_t until, size_t max_size,
            const std::atomic<uint32_t>* stop = nullptr,
            std::chrono::microseconds pause = std::chrono::microseconds(0)) {
  LaneWriter w(seg, lane);
  std::vector<uint8_t> buf(max_size);
  while (w.next_sequence() < until && !(stop && stop->load())) {
    uint64_t seq = w.next_sequence();
    size_t size = payload_size(lane, seq, max_size);
    fill_payload(lane, seq, buf.data(), size);
    if (!w.write(buf.data(), size, stop)) break;
    if (pause.count()) std::this_thread::sleep_for(pause);
  }
  return 0;
}

// Like produce(), but fills each payload in place through reserve()/commit(): almost all of
// the producer's time is then spent with a record in flight, where random kills should land.
int produce_in_place(Segment& seg, uint32_t lane, size_t max_size) {
  LaneWriter w(seg, lane);
  for (;;) {
    uint64_t seq = w.next_sequence();
    size_t size = payload_size(lane, seq, max_size);
    uint8_t* p = w.reserve(size);
    // Filled four times on purpose: the producer must be clearly slower than the consumer
    // (which regenerates every payload to check it), or it would spend its time waiting for
    // space with no record in flight, and the random kills would mostly land there.
    for (int i = 0; i < 4; ++i) fill_payload(lane, seq, p, size);
    w.commit();
  }
  return 0;
}

// Consumes until `done` says so; checks every record's payload and per-lane order.
// Returns 0 if all was well. `log_fd` (if >= 0) gets (lane, seq) of every record taken,
// written before release.
int consume(Segment& seg, size_t max_size, const std::function<bool()>& done,
            std::vector<uint64_t>* next_out = nullptr, int log_fd = -1) {
  RingReader r(seg);
  std::vector<int64_t> next(seg.sizes().lanes, -1);  // -1: not yet seen in this life
  std::string buf;
  int errors = 0;
  while (true) {
    auto rec = r.peek();
    if (!rec) {
      if (done()) break;
      r.wait(std::chrono::milliseconds(20));
      continue;
    }
    if (next[rec->lane] >= 0 && int64_t(rec->sequence) != next[rec->lane]) ++errors;
    if (!payload_ok(rec->lane, rec->sequence, rec->data, rec->size, max_size, &buf)) ++errors;
    next[rec->lane] = int64_t(rec->sequence) + 1;
    if (log_fd >= 0) {
      uint64_t entry[2] = {rec->lane, rec->sequence};
      if (::write(log_fd, entry, sizeof entry) != sizeof entry) ++errors;
    }
    r.release(*rec);
  }
  if (next_out)
    for (size_t l = 0; l < next.size(); ++l)
      (*next_out)[l] = uint64_t(std::max<int64_t>(next[l], 0));
  if (r.corrupt_records_skipped() != 0) ++errors;
  if (errors) std::fprintf(stderr, "consumer %d: %d errors\n", ::getpid(), errors);
  return errors ? 4 : 0;
}

// Fault hook state of a producer child (set after fork, so per child).
FaultPoint g_kill_point;
uint64_t g_kill_seq;
void kill_at_point(FaultPoint point, uint64_t seq) {
  if (point == g_kill_point && seq == g_kill_seq) ::raise(SIGKILL);
}

}  // namespace

TEST_CASE("ring processes: 3 producers x 100k records, one consumer, exactly once in order",
          "[ring][processes]") {
  ReapChildrenOnExit reap;
  SegmentGuard g(unique_name("stress"));
  const uint32_t lanes = 3;
  const uint64_t per_lane = 100000;
  const size_t max_size = 1500;
  auto seg = Segment::create(g.name, small_sizes(lanes, 1 << 18, max_size), "");
  pid_t consumer = spawn([&] {
    auto s = Segment::open(g.name);
    std::vector<uint64_t> next(lanes);
    int rc = consume(
        *s, max_size,
        [&] {
          for (const auto& st : lane_status(*s))
            if (st.records_consumed < per_lane) return false;
          return true;
        },
        &next);
    for (uint64_t n : next)
      if (n != per_lane) rc = 5;
    return rc;
  });
  std::vector<pid_t> producers;
  for (uint32_t lane = 0; lane < lanes; ++lane)
    producers.push_back(spawn([&, lane] {
      auto s = Segment::open(g.name);
      return produce(*s, lane, per_lane, max_size);
    }));
  for (pid_t p : producers) CHECK(wait_child(p) == 0);
  CHECK(wait_child(consumer) == 0);
  for (const auto& st : lane_status(*seg)) {
    CHECK(st.records_committed == per_lane);
    CHECK(st.records_consumed == per_lane);
    CHECK(st.bytes_in_flight == 0);
  }
}

TEST_CASE(
    "ring processes: producers SIGKILLed mid-copy, before and after the tail store, and at random "
    "instants",
    "[ring][processes][faults]") {
  ReapChildrenOnExit reap;
  SegmentGuard g(unique_name("faults"));
  const size_t max_size = 6000;
  auto seg = Segment::create(g.name, small_sizes(2, 1 << 15, max_size), "");
  // The consumer runs through all trials in its own process and checks that lane 0 (the
  // killed producers) and lane 1 (a steady producer beside them) arrive complete and in
  // order; it ends when the test sets the first word of the learner region (after every
  // producer has finished) and the ring is empty.
  pid_t consumer = spawn([&] {
    auto s = Segment::open(g.name);
    auto* finished = reinterpret_cast<std::atomic<uint32_t>*>(s->learner_region());
    std::vector<uint64_t> next(2);
    int rc = consume(
        *s, max_size, [&] { return finished->load() != 0; }, &next);
    auto st = lane_status(*s);
    for (uint32_t l = 0; l < 2; ++l)
      if (next[l] != st[l].records_committed) rc = 6;
    return rc;
  });
  pid_t steady = spawn([&] {
    auto s = Segment::open(g.name);
    // Paced, so that the consumer keeps up with lane 0 and its producer is rarely blocked
    // on a full lane (the random kills should land while it writes).
    return produce(*s, 1, UINT64_MAX, max_size, &s->control().stop, std::chrono::microseconds(200));
  });

  std::mt19937_64 rng(12345);
  int random_kills_landed = 0;
  // 150 trials at the three hooked instants (50 each), then trials at random instants until
  // 10 of them have hit a record in flight (where a random kill lands depends on the
  // machine's load; the cap keeps a pathological machine from looping forever).
  const int hooked_trials = 150, max_random_trials = 400, wanted_random_landings = 10;
  int trials = 0;
  for (int trial = 0;
       trial < hooked_trials + max_random_trials && random_kills_landed < wanted_random_landings;
       ++trial, ++trials) {
    const int mode = trial < hooked_trials ? trial % 3 : 3;  // 0 mid-copy, 1 before tail,
                                                             // 2 after tail, 3 random instant
    const uint64_t start = lane_control(*seg, 0).committed_seq.load();
    const uint64_t kill_seq = start + rng() % 40;
    const FaultPoint point = mode == 0   ? FaultPoint::kMidCopy
                             : mode == 1 ? FaultPoint::kBeforeTailStore
                                         : FaultPoint::kAfterTailStore;
    pid_t child = spawn([&] {
      auto s = Segment::open(g.name);
      if (mode < 3) {
        g_kill_point = point;
        g_kill_seq = kill_seq;
        testing::set_fault_hook(kill_at_point);
      }
      if (mode < 3)
        produce(*s, 0, kill_seq + 100, max_size);
      else
        produce_in_place(*s, 0, max_size);
      return 0;  // only reached if the hook never fired: the parent fails the trial
    });
    if (mode == 3) {
      // Let the child get going (it has committed a record), then kill it at a random
      // instant while it writes.
      for (int i = 0; i < 2000 && lane_control(*seg, 0).committed_seq.load() == start; ++i)
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 1000));
      ::kill(child, SIGKILL);
    }
    int rc = wait_child(child);
    REQUIRE(rc == 128 + SIGKILL);
    LaneControl& c = lane_control(*seg, 0);
    if (mode < 3) {
      // Prove the child died exactly at the chosen instant.
      REQUIRE(c.pending_seq.load() == kill_seq + 1);
      REQUIRE(c.committed_seq.load() == kill_seq);
      if (mode == 2)
        REQUIRE(c.tail.load() == c.pending_end.load());
      else
        REQUIRE(c.tail.load() != c.pending_end.load());
    } else if (std::getenv("RZ_TEST_VERBOSE")) {
      std::fprintf(stderr, "trial %d: wrote %lu, pending %lu committed %lu\n", trial,
                   (unsigned long)(c.committed_seq.load() - start),
                   (unsigned long)c.pending_seq.load(), (unsigned long)c.committed_seq.load());
    }
    if (mode == 3 && c.pending_seq.load() != c.committed_seq.load()) {
      ++random_kills_landed;  // died with a record in flight
    }
    // A restarted producer takes the lane over and continues with the right sequence.
    // (A random kill may land before the child took the lane: then there is nothing to take
    // over.)
    LaneWriter w(*seg, 0);
    if (mode < 3) REQUIRE(w.took_over());
    if (mode == 0 || mode == 1) REQUIRE(w.next_sequence() == kill_seq);
    if (mode == 2) REQUIRE(w.next_sequence() == kill_seq + 1);
    std::vector<uint8_t> buf(max_size);
    uint64_t seq = w.next_sequence();
    size_t size = payload_size(0, seq, max_size);
    fill_payload(0, seq, buf.data(), size);
    REQUIRE(w.write(buf.data(), size));
  }
  CHECK(random_kills_landed >= wanted_random_landings);
  seg->control().request_stop();
  CHECK(wait_child(steady) == 0);
  reinterpret_cast<std::atomic<uint32_t>*>(seg->learner_region())->store(1);
  CHECK(wait_child(consumer) == 0);
  auto st = lane_status(*seg);
  CHECK(st[0].records_consumed == st[0].records_committed);
  CHECK(st[1].records_consumed == st[1].records_committed);
  CHECK(st[0].records_committed > uint64_t(trials));
}

namespace {
uint64_t g_consumer_kill_after;
void kill_consumer(FaultPoint point, uint64_t) {
  if (point == FaultPoint::kConsumerBeforeHeadStore && --g_consumer_kill_after == 0)
    ::raise(SIGKILL);
}
}  // namespace

TEST_CASE(
    "ring processes: a consumer SIGKILLed mid-stream and restarted loses and duplicates nothing",
    "[ring][processes][faults]") {
  ReapChildrenOnExit reap;
  SegmentGuard g(unique_name("ckill"));
  const size_t max_size = 1000;
  const uint64_t per_lane = 40000;
  auto seg = Segment::create(g.name, small_sizes(2, 1 << 16, max_size), "");
  char log_path[] = "/tmp/rz-test-consumer-log-XXXXXX";
  int log_fd = ::mkstemp(log_path);
  REQUIRE(log_fd >= 0);
  ::unlink(log_path);

  std::vector<pid_t> producers;
  for (uint32_t lane = 0; lane < 2; ++lane)
    producers.push_back(spawn([&, lane] {
      auto s = Segment::open(g.name);
      return produce(*s, lane, per_lane, max_size);
    }));
  auto all_consumed = [&](Segment& s) {
    for (const auto& st : lane_status(s))
      if (st.records_consumed < per_lane) return false;
    return true;
  };
  auto consumer_child = [&](uint64_t hook_after) {
    return spawn([&, hook_after] {
      auto s = Segment::open(g.name);
      if (hook_after) {
        g_consumer_kill_after = hook_after;
        testing::set_fault_hook(kill_consumer);
      }
      return consume(
          *s, max_size, [&] { return all_consumed(*s); }, nullptr, log_fd);
    });
  };
  std::mt19937_64 rng(777);
  int kills = 0;
  // Two consumers die exactly between storing consumed_seq and head (the subtle instant),
  // then several at random instants, then one runs to the end.
  for (int i = 0; i < 2; ++i) {
    pid_t c = consumer_child(500 + rng() % 500);
    CHECK(wait_child(c) == 128 + SIGKILL);
    ++kills;
  }
  for (int i = 0; i < 6; ++i) {
    pid_t c = consumer_child(0);
    std::this_thread::sleep_for(std::chrono::microseconds(2000 + rng() % 8000));
    ::kill(c, SIGKILL);
    int rc = wait_child(c);
    CHECK((rc == 128 + SIGKILL || rc == 0));
    if (rc == 128 + SIGKILL) ++kills;
  }
  CHECK(wait_child(consumer_child(0)) == 0);
  for (pid_t p : producers) CHECK(wait_child(p) == 0);

  // The log holds every record taken, in order. A record may appear twice only if a
  // consumer died after logging it and before its head store: then it is repeated right
  // away by the next consumer. Nothing is missing; nothing else repeats.
  std::vector<uint64_t> log(size_t(::lseek(log_fd, 0, SEEK_END)) / 8);
  REQUIRE(::pread(log_fd, log.data(), log.size() * 8, 0) == ssize_t(log.size() * 8));
  ::close(log_fd);
  std::vector<int64_t> last(2, -1);
  int duplicates = 0;
  for (size_t i = 0; i + 1 < log.size(); i += 2) {
    uint64_t lane = log[i], seq = log[i + 1];
    REQUIRE(lane < 2);
    if (int64_t(seq) == last[lane]) {
      ++duplicates;
    } else {
      REQUIRE(int64_t(seq) == last[lane] + 1);
    }
    last[lane] = int64_t(seq);
  }
  CHECK(last[0] == int64_t(per_lane) - 1);
  CHECK(last[1] == int64_t(per_lane) - 1);
  CHECK(duplicates <= kills);
  CHECK(duplicates >= 2);  // the two hook kills each leave their record to be retaken
  CHECK(kills >= 5);
}

// The relay frees many records at once (release_through). Killed between storing
// consumed_seq and head, it leaves head several records behind consumed_seq: its successor
// must read them again (the receiver drops the repeats), never take them for corruption and
// skip the lane, which would lose the records behind them that were never sent.
TEST_CASE(
    "ring processes: a reader SIGKILLed inside release_through of several records loses nothing",
    "[ring][processes][faults]") {
  ReapChildrenOnExit reap;
  SegmentGuard g(unique_name("rthrough"));
  auto seg = Segment::create(g.name, small_sizes(1, 1 << 16, 1000), "");
  {
    LaneWriter w(*seg, 0);
    std::vector<uint8_t> rec(300, 7);
    for (int i = 0; i < 10; ++i) REQUIRE(w.write(rec.data(), rec.size()));
  }
  pid_t c = spawn([&] {
    auto s = Segment::open(g.name);
    RingReader r(*s);
    for (int i = 0; i < 5; ++i)
      if (!r.read_ahead()) return 3;
    g_consumer_kill_after = 1;
    testing::set_fault_hook(kill_consumer);
    r.release_through(0, 4);  // consumed_seq = 5 stored, then killed before head moves
    return 4;
  });
  REQUIRE(wait_child(c) == 128 + SIGKILL);
  CHECK(lane_status(*seg)[0].records_consumed == 5);
  RingReader r(*seg);
  std::vector<uint64_t> seen;
  while (auto rec = r.read_ahead()) seen.push_back(rec->sequence);
  CHECK(r.corrupt_records_skipped() == 0);
  // Records 0-4 again (already forwarded: repeats for the receiver), then 5-9, none lost.
  std::vector<uint64_t> expected(10);
  for (uint64_t i = 0; i < 10; ++i) expected[i] = i;
  CHECK(seen == expected);
  r.release_through(0, 9);
  CHECK(lane_status(*seg)[0].records_consumed == 10);
}

// Issue #13 finding 6: after a corrupt-record skip the lane's consumed_seq is no longer the
// next record's sequence. A consumer SIGKILLed right after the skip (before it released
// anything on that lane) must not make its successor reject the lane's next good records.
TEST_CASE(
    "ring: a consumer SIGKILLed right after a corrupt-record skip - its successor keeps the next "
    "good records",
    "[ring][processes][kill]") {
  OneLaneSegment one_lane("skipkill");
  Segment* seg = one_lane.seg.get();
  std::vector<uint8_t> rec(200, 7);
  {
    LaneWriter w(*seg, 0);
    REQUIRE(w.write(rec.data(), rec.size()));  // seq 0
    RecordHeader* second = one_lane.next_header();
    REQUIRE(w.write(rec.data(), rec.size()));  // seq 1
    REQUIRE(w.write(rec.data(), rec.size()));  // seq 2
    // Record 1's payload is corrupted in place: the consumer must skip the lane to its tail.
    reinterpret_cast<uint8_t*>(second + 1)[5] ^= 0x40;
  }
  // Consumer child: takes record 0, releases it, meets the corrupt record 1 (skip), and is
  // SIGKILLed right there, before the next release.
  const pid_t consumer = spawn([&] {
    auto s = Segment::open(one_lane.guard.name);
    RingReader r(*s);
    auto first = r.peek();
    if (!first || first->sequence != 0) return 2;
    r.release(*first);
    if (r.peek()) return 3;  // record 1 is corrupt: nothing delivered
    if (r.corrupt_records_skipped() != 1) return 4;
    ::raise(SIGKILL);
    return 5;
  });
  REQUIRE(wait_child(consumer) == 128 + SIGKILL);
  // The producer goes on: records 3, 4, 5 are good.
  {
    LaneWriter w(*seg, 0);
    for (int i = 0; i < 3; ++i) REQUIRE(w.write(rec.data(), rec.size()));
  }
  // The successor (this process, taking over the dead consumer's role) gets all three.
  RingReader r(*seg);
  CHECK(r.took_over());
  std::vector<uint64_t> got;
  while (auto rec_view = r.peek()) {
    got.push_back(rec_view->sequence);
    r.release(*rec_view);
  }
  CHECK(got == std::vector<uint64_t>{3, 4, 5});
  CHECK(r.corrupt_records_skipped() == 0);
  auto status = lane_status(*seg);
  CHECK(status[0].records_consumed == 6);
  CHECK(status[0].bytes_in_flight == 0);
}
