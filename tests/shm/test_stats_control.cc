// Stats table and control block, within a process and across processes.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "shm/control.h"
#include "shm/stats.h"
#include "tests/shm/shm_test_util.h"

using namespace rz::shm;
using namespace rz::shm::test;

TEST_CASE("stats: a restarted process gets its slot back with counters intact", "[stats]") {
  ReapChildrenOnExit reap;
  SegmentGuard g(unique_name("stats"));
  auto seg = Segment::create(g.name, small_sizes(), "");
  for (int life = 0; life < 3; ++life) {
    pid_t child = spawn([&] {
      auto s = Segment::open(g.name);
      StatsWriter w(*s, Role::kActor, 5);
      int games = w.metric("games");
      int temp = w.gauge("temperature");
      w.add(games, 10);
      w.set_gauge(temp, 0.25 * (life + 1));
      w.set_state(ProcessState::kRunning);
      w.heartbeat();
      if (life == 1) ::raise(SIGKILL);  // a crash must not lose the counters either
      return 0;
    });
    int rc = wait_child(child);
    CHECK(rc == (life == 1 ? 128 + SIGKILL : 0));
  }
  StatsWriter other(*seg, Role::kLearner, 0);
  other.add(other.metric("steps"), 3);

  auto ro = Segment::open(g.name, true);
  auto snaps = read_stats(*ro);
  REQUIRE(snaps.size() == 2);
  const SlotSnapshot& actor = snaps[0];
  CHECK(actor.role == Role::kActor);
  CHECK(actor.index == 5);
  CHECK(actor.restarts == 2);
  CHECK(actor.value("games") == 30);
  REQUIRE(actor.metrics.size() == 2);
  CHECK(actor.metrics[1].kind == MetricKind::kGauge);
  CHECK(actor.metrics[1].gauge() == 0.75);
  CHECK(actor.state == ProcessState::kRunning);
  CHECK(actor.heartbeat_ns <= now_monotonic_ns());
  CHECK(snaps[1].role == Role::kLearner);
  CHECK(snaps[1].value("steps") == 3);
  CHECK(snaps[1].restarts == 0);
  CHECK(std::string(role_name(Role::kLearner)) == "learner");
}

TEST_CASE(
    "stats: a seeded slot carries counters into a new segment - its first owner is no restart",
    "[stats]") {
  ReapChildrenOnExit reap;
  // Generation 1: an actor counts games, is restarted once, and the table is saved.
  std::vector<SlotSnapshot> saved;
  {
    SegmentGuard g(unique_name("seed1"));
    auto seg = Segment::create(g.name, small_sizes(), "");
    for (int life = 0; life < 2; ++life) {
      StatsWriter w(*seg, Role::kActor, 1);
      w.add(w.metric("games"), 7);
      w.set_gauge(w.gauge("pos_per_s"), 2.5);
    }
    saved = read_stats(*seg);
  }
  REQUIRE(saved.size() == 1);
  REQUIRE(saved[0].restarts == 1);

  // Generation 2: a fresh segment seeded from the saved table before any process runs.
  SegmentGuard g(unique_name("seed2"));
  auto seg = Segment::create(g.name, small_sizes(), "");
  seed_slot(*seg, saved[0]);
  auto seeded = read_stats(*seg);
  REQUIRE(seeded.size() == 1);
  CHECK(seeded[0].pid == 0);
  CHECK(seeded[0].state == ProcessState::kEmpty);
  CHECK(seeded[0].value("games") == 14);
  // Seeding the same key twice would lose one of them: refused.
  CHECK_THROWS_AS(seed_slot(*seg, saved[0]), ShmError);

  // A real process claims the seeded slot: counters intact, restarts unchanged.
  pid_t child = spawn([&] {
    auto s = Segment::open(g.name);
    StatsWriter w(*s, Role::kActor, 1);
    w.add(w.metric("games"), 1);
    return w.restarts() == 1 ? 0 : 1;
  });
  CHECK(wait_child(child) == 0);
  // Its own restart then counts as one.
  StatsWriter again(*seg, Role::kActor, 1);
  auto after = read_stats(*seg);
  REQUIRE(after.size() == 1);
  CHECK(after[0].value("games") == 15);
  CHECK(after[0].restarts == 2);
  REQUIRE(after[0].metrics.size() == 2);
  CHECK(after[0].metrics[1].kind == MetricKind::kGauge);
  CHECK(after[0].metrics[1].gauge() == 2.5);

  // Invalid seeds are refused without claiming a slot.
  SlotSnapshot bad = saved[0];
  bad.index = 9;
  bad.metrics[0].name = "a_metric_name_far_too_long_for_a_slot";
  CHECK_THROWS_AS(seed_slot(*seg, bad), ShmError);
  bad.metrics[0].name = "games";
  bad.role = Role::kNone;
  CHECK_THROWS_AS(seed_slot(*seg, bad), ShmError);
  CHECK(read_stats(*seg).size() == 1);
}

TEST_CASE("stats: bad names and a full table are refused", "[stats]") {
  SegmentGuard g(unique_name("statsfull"));
  auto sizes = small_sizes();
  sizes.stats_slots = 2;
  auto seg = Segment::create(g.name, sizes, "");
  StatsWriter a(*seg, Role::kActor, 0);
  StatsWriter b(*seg, Role::kActor, 1);
  CHECK_THROWS_WITH(StatsWriter(*seg, Role::kActor, 2),
                    Catch::Contains("stats table") && Catch::Contains("full"));
  CHECK_THROWS_WITH(a.metric("a_name_that_is_too_long_x"), Catch::Contains("1 to 23 characters"));
  for (int i = 0; i < kMaxMetrics; ++i) a.metric(("m" + std::to_string(i)).c_str());
  CHECK(a.metric("m7") == 7);
  CHECK_THROWS_WITH(a.metric("one_more"), Catch::Contains("at most 32"));
}

TEST_CASE("stats: threads write their own slots while readers snapshot", "[stats][threads]") {
  SegmentGuard g(unique_name("statsthr"));
  auto seg = Segment::create(g.name, small_sizes(), "");
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (uint32_t t = 0; t < 3; ++t)
    writers.emplace_back([&, t] {
      StatsWriter w(*seg, Role::kActor, t);
      int c = w.metric("count");
      for (int i = 0; i < 20000; ++i) {
        w.add(c, 1);
        if (i % 1000 == 0) w.heartbeat();
      }
    });
  std::thread reader([&] {
    while (!done.load()) {
      for (const auto& s : read_stats(*seg))
        for (const auto& m : s.metrics) REQUIRE(m.name == "count");
    }
  });
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  auto snaps = read_stats(*seg);
  REQUIRE(snaps.size() == 3);
  for (const auto& s : snaps) CHECK(s.value("count") == 20000);
}

TEST_CASE("control: stop set by one process wakes a waiter in another", "[control]") {
  ReapChildrenOnExit reap;
  SegmentGuard g(unique_name("ctl"));
  auto seg = Segment::create(g.name, small_sizes(), "");
  ControlBlock& c = seg->control();
  CHECK_FALSE(c.stop_requested());
  CHECK_FALSE(c.wait_for_stop(std::chrono::milliseconds(10)));
  pid_t child = spawn([&] {
    auto s = Segment::open(g.name);
    // Returns because of the stop, long before the 20 s timeout.
    auto t0 = std::chrono::steady_clock::now();
    bool stopped = s->control().wait_for_stop(std::chrono::seconds(20));
    auto waited = std::chrono::steady_clock::now() - t0;
    return stopped && waited < std::chrono::seconds(10) ? 0 : 3;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  c.learner_restart_requested.fetch_add(1);
  c.request_stop();
  CHECK(wait_child(child) == 0);
  CHECK(Segment::open(g.name)->control().learner_restart_requested.load() == 1);
  CHECK(c.wait_for_stop(std::chrono::milliseconds(1)));
}
