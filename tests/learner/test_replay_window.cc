// ReplayWindow: eviction by positions and bytes, uniform target indexing, re-attachment
// (what a restarted learner sees), idempotent insertion, and SIGKILL at random instants of a
// writer process that inserts without pause.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>

#include "learner/replay_window.h"
#include "tests/support/wait.h"

using namespace rz;

namespace {

// Deterministic record content of (lane, sequence): size and bytes derived from both, so a
// reader can check any entry it finds.
std::vector<uint8_t> record_for(uint32_t lane, uint64_t seq) {
  size_t size = 40 + (seq * 37 + lane * 11) % 300;
  std::vector<uint8_t> r(size);
  for (size_t i = 0; i < size; ++i) r[i] = static_cast<uint8_t>(seq * 131 + lane * 7 + i);
  return r;
}
uint32_t positions_for(uint64_t seq) {
  return 5 + seq % 5;
}
std::vector<uint16_t> targets_for(uint64_t seq) {
  std::vector<uint16_t> t;
  for (uint16_t i = 0; i < positions_for(seq); ++i)
    if ((i + seq) % 3 != 0) t.push_back(i);
  return t;
}

void insert(ReplayWindow& w, uint32_t lane, uint64_t seq) {
  auto r = record_for(lane, seq);
  w.insert(lane, seq, r.data(), static_cast<uint32_t>(r.size()), positions_for(seq),
           targets_for(seq));
}

struct Region {
  explicit Region(size_t bytes) : size(bytes) {
    // MAP_SHARED so that a forked writer's stores are what the parent inspects, as with the
    // segment's learner region.
    mem = static_cast<uint8_t*>(
        ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    REQUIRE(mem != MAP_FAILED);
  }
  ~Region() { ::munmap(mem, size); }
  uint8_t* mem;
  size_t size;
};

// Every sampleable target maps to an entry whose bytes are exactly its record's.
void check_all_targets(const ReplayWindow& w) {
  for (uint64_t i = 0; i < w.targets(); ++i) {
    ReplayWindow::Sample s = w.target(i);
    auto expect = record_for(s.lane, s.sequence);
    REQUIRE(s.size == expect.size());
    REQUIRE(std::memcmp(s.record, expect.data(), s.size) == 0);
    auto t = targets_for(s.sequence);
    REQUIRE(std::find(t.begin(), t.end(), s.position) != t.end());
  }
}

// Waits (sleeping) until the forked child has made progress, however loaded the machine,
// then SIGKILLs it at a random instant within 20 ms and reaps it.
void kill_mid_stream(pid_t child, const std::atomic<uint64_t>& progress, std::mt19937& rng) {
  rz::testing::wait_until([&] { return progress.load() != 0; }, std::chrono::seconds(5));
  std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

}  // namespace

TEST_CASE("replay window evicts the oldest records by position count and keeps counts") {
  Region region(256 << 10);
  ReplayWindow w(region.mem, region.size, /*max_positions=*/200, /*lanes=*/2, /*tag=*/42);
  uint64_t positions = 0;
  for (uint64_t seq = 0; seq < 100; ++seq) {
    insert(w, seq % 2, seq);
    positions += positions_for(seq);
    REQUIRE(w.positions() <= 200);
  }
  ReplayCounts c = w.counts();
  CHECK(c.records_inserted == 100);
  CHECK(c.positions_inserted == positions);
  CHECK(c.records_in_window + c.records_evicted == 100);
  CHECK(c.records_evicted > 0);
  CHECK(c.positions_in_window == w.positions());
  CHECK(c.targets_in_window == w.targets());
  CHECK(w.positions() > 200 - 10);  // evicts only as much as needed
  check_all_targets(w);
  CHECK(w.contains(0, 98));
  CHECK(w.contains(1, 3));  // evicted long ago, still known as inserted
  CHECK_FALSE(w.contains(0, 100));
  CHECK_THROWS_AS(w.target(w.targets()), ReplayError);
}

TEST_CASE("replay window evicts by bytes when records are large, wrapping around the ring") {
  Region region(64 << 10);
  ReplayWindow w(region.mem, region.size, 1000000, 1, 42);
  for (uint64_t seq = 0; seq < 2000; ++seq) insert(w, 0, seq);
  ReplayCounts c = w.counts();
  CHECK(c.records_inserted == 2000);
  CHECK(c.records_in_window + c.records_evicted == 2000);
  CHECK(c.records_in_window > 50);
  check_all_targets(w);
}

TEST_CASE("a re-attached window (restarted learner) sees exactly the committed state") {
  Region region(128 << 10);
  std::vector<ReplayWindow::Sample> before;
  {
    ReplayWindow w(region.mem, region.size, 300, 3, 42);
    for (uint64_t seq = 0; seq < 150; ++seq) insert(w, seq % 3, seq);
    for (uint64_t i = 0; i < w.targets(); ++i) before.push_back(w.target(i));
  }
  ReplayWindow again(region.mem, region.size, 300, 3, 42);
  REQUIRE(again.targets() == before.size());
  for (uint64_t i = 0; i < again.targets(); ++i) {
    CHECK(again.target(i).record == before[i].record);
    CHECK(again.target(i).position == before[i].position);
  }
  CHECK(again.counts().records_inserted == 150);
  // Inserting continues the same ordinals.
  insert(again, 0, 150);
  CHECK(again.counts().records_inserted == 151);
  CHECK(ReplayWindow::inspect(region.mem, region.size).records_inserted == 151);

  CHECK_THROWS_WITH(ReplayWindow(region.mem, region.size, 300, 3, /*other game*/ 43),
                    Catch::Contains("another game"));
  CHECK_THROWS_WITH(ReplayWindow(region.mem, region.size, 300, 4, 42), Catch::Contains("geometry"));
}

TEST_CASE("half-written entries beyond the committed tail are ignored") {
  Region region(64 << 10);
  ReplayWindow w(region.mem, region.size, 100000, 1, 42);
  for (uint64_t seq = 0; seq < 10; ++seq) insert(w, 0, seq);
  ReplayCounts c = w.counts();
  // Scribble over everything beyond the last committed entry (no wrap yet): what a writer
  // killed mid-copy leaves behind.
  const uint8_t* end = region.mem;
  for (uint64_t i = 0; i < w.targets(); ++i)
    end = std::max(end, w.target(i).record + w.target(i).size);
  size_t from = ((end - region.mem) + 7) & ~size_t{7};
  std::memset(region.mem + from, 0xAB, region.size - from);
  ReplayWindow again(region.mem, region.size, 100000, 1, 42);
  CHECK(again.counts().records_in_window == c.records_in_window);
  check_all_targets(again);
}

TEST_CASE("SIGKILL of an inserting process at random instants never damages the window") {
  Region region(48 << 10);  // small: the writer wraps and evicts constantly
  Region progress(4096);    // the child's insert count, so the kill lands mid-stream
  auto* inserted_by_child = reinterpret_cast<std::atomic<uint64_t>*>(progress.mem);
  std::mt19937 rng(1234);
  for (int round = 0; round < 12; ++round) {
    inserted_by_child->store(0);
    uint64_t start_seq;
    {
      ReplayWindow w(region.mem, region.size, 400, 2, 42);
      start_seq = w.counts().records_inserted;
    }
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ReplayWindow w(region.mem, region.size, 400, 2, 42);
      for (uint64_t seq = start_seq;; ++seq) {
        insert(w, static_cast<uint32_t>(seq % 2), seq / 2);
        inserted_by_child->fetch_add(1, std::memory_order_relaxed);
      }
    }
    kill_mid_stream(child, *inserted_by_child, rng);
    ReplayWindow w(region.mem, region.size, 400, 2, 42);  // must not throw
    ReplayCounts c = w.counts();
    REQUIRE(c.records_inserted > start_seq);
    REQUIRE(c.records_in_window + c.records_evicted == c.records_inserted);
    REQUIRE(c.positions_in_window <= 400);
    // Ordinals are contiguous and lane sequences agree with the count: record k went to lane
    // k % 2 with sequence k / 2, so the committed last sequences follow from records_inserted.
    uint64_t n = c.records_inserted;
    REQUIRE(c.lane_next_sequence[0] == (n + 1) / 2);
    REQUIRE(c.lane_next_sequence[1] == n / 2);
    check_all_targets(w);
  }
}

TEST_CASE("bad records and samples trained are committed in the region and survive a re-attach") {
  Region region(64 << 10);
  {
    ReplayWindow w(region.mem, region.size, 1000, 2, 42);
    insert(w, 0, 0);
    w.skip_bad(0, 1);  // a record that failed validation: no entry, but counted and consumed
    insert(w, 1, 0);
    w.add_samples_trained(96);
    CHECK(w.bad_records() == 1);
    CHECK(w.contains(0, 1));
    CHECK_FALSE(w.contains(0, 2));
    CHECK(w.counts().records_inserted == 2);
    CHECK_THROWS_WITH(w.skip_bad(2, 0), Catch::Contains("out of range"));
  }
  // A restarted learner: the bad record is contained (skipped, not counted again) and the
  // limiter's count continues from the region.
  ReplayWindow again(region.mem, region.size, 1000, 2, 42);
  CHECK(again.bad_records() == 1);
  CHECK(again.contains(0, 1));
  CHECK(again.samples_trained() == 96);
  again.add_samples_trained(32);
  ReplayCounts c = ReplayWindow::inspect(region.mem, region.size);
  CHECK(c.bad_records == 1);
  CHECK(c.samples_trained == 128);
  CHECK(c.records_inserted == 2);
  CHECK(c.lane_next_sequence[0] == 2);
  CHECK(c.lane_next_sequence[1] == 1);
}

TEST_CASE("SIGKILL while inserting and skipping bad records: every sequence counted exactly once") {
  Region region(48 << 10);
  Region progress(4096);
  auto* done_by_child = reinterpret_cast<std::atomic<uint64_t>*>(progress.mem);
  // Record k goes to lane k % 2 with sequence k / 2; every fifth one is bad.
  auto is_bad = [](uint64_t k) { return k % 5 == 3; };
  std::mt19937 rng(4321);
  for (int round = 0; round < 8; ++round) {
    done_by_child->store(0);
    uint64_t start;
    {
      ReplayWindow w(region.mem, region.size, 400, 2, 42);
      start = w.counts().records_inserted + w.bad_records();
    }
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ReplayWindow w(region.mem, region.size, 400, 2, 42);
      for (uint64_t k = start;; ++k) {
        if (is_bad(k))
          w.skip_bad(static_cast<uint32_t>(k % 2), k / 2);
        else
          insert(w, static_cast<uint32_t>(k % 2), k / 2);
        done_by_child->fetch_add(1, std::memory_order_relaxed);
      }
    }
    kill_mid_stream(child, *done_by_child, rng);
    ReplayWindow w(region.mem, region.size, 400, 2, 42);
    ReplayCounts c = w.counts();
    const uint64_t n = c.records_inserted + c.bad_records;  // records committed, good or bad
    REQUIRE(n > start);
    uint64_t bad = 0;
    for (uint64_t k = 0; k < n; ++k) bad += is_bad(k);
    REQUIRE(c.bad_records == bad);
    REQUIRE(c.lane_next_sequence[0] == (n + 1) / 2);
    REQUIRE(c.lane_next_sequence[1] == n / 2);
    REQUIRE(c.records_in_window + c.records_evicted == c.records_inserted);
    check_all_targets(w);
  }
}
