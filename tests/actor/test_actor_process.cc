// The actor as users run it: a real ringzero-actor process (fork/exec), a real shared-memory
// segment, real weights from a freshly initialised tic-tac-toe network. The test plays the
// learner's part: it publishes weights, drains the lane with RingReader, decodes every record
// and checks it; it stops the actor by the run's stop flag, by SIGTERM and by SIGINT, kills
// it with SIGKILL and restarts it on the same slot, and feeds it weights of another network.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/config_options.h"
#include "common/game.h"
#include "common/net/net_evaluator.h"
#include "common/trajectory.h"
#include "shm/segment.h"
#include "shm/stats.h"
#include "shm/trajectory_ring.h"
#include "shm/weight_slot.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace shm = rz::shm;
using rz::testing::read_file;
using rz::testing::wait_exit;

const char* const kActorBinary = RZ_BINARY_DIR "/actor/ringzero-actor";
constexpr uint64_t kTestLayoutTag = 0;  // the WeightSlot's tag is informational for actors

std::vector<uint8_t> network_blob(const std::string& game_spec, rz::NetConfig net, uint64_t seed) {
  const auto game = rz::make_game(game_spec);
  return rz::NetEvaluator(*game, net, 1, 1, seed).blob();
}

// A search small enough for a test actor to finish tic-tac-toe games in milliseconds, with
// enough root noise and early temperature that its games differ.
rz::MctsConfig quick_search() {
  rz::MctsConfig m;
  m.simulations = 8;
  m.virtual_leaves = 4;
  m.temperature_moves = 2;
  m.dirichlet_alpha = 1.0f;
  return m;
}

// One run for actors the test starts by hand: a temporary run directory holding config.ini,
// and the segment, created by the test as the supervisor would.
struct ActorRun {
  rz::testing::TempDir temp{"actor-test"};
  std::string dir = temp.path(), config_path;
  rz::RunConfig config;
  std::unique_ptr<shm::Segment> segment;
  std::unique_ptr<rz::Game> game;

  explicit ActorRun(uint64_t lane_bytes = 256 << 10, uint64_t max_record = 32 << 10,
                    bool create_segment = true) {
    config.game = "tictactoe";
    config.seed = 12345;
    config.run_dir = dir;
    config.net.blocks = 1;
    config.net.filters = 8;
    config.mcts = quick_search();
    config.actor.games_in_flight = 4;
    config.shm.lane_bytes = lane_bytes;
    config.shm.max_record_bytes = max_record;
    config.shm.name = rz::default_shm_name(dir);
    config_path = dir + "/config.ini";
    rz::write_config_atomically(config, config_path);

    game = rz::make_game(config.game);
    if (create_segment) segment = shm::Segment::create(config.shm.name, sizes(), "actor test");
  }
  shm::SegmentSizes sizes() const {
    shm::SegmentSizes s;
    s.lanes = 2;
    s.lane_bytes = config.shm.lane_bytes;
    s.max_record_bytes = config.shm.max_record_bytes;
    s.weight_bytes = 1 << 20;
    s.stats_slots = 8;
    return s;
  }
  ~ActorRun() {
    segment.reset();
    shm::Segment::remove(config.shm.name);
  }

  uint64_t publish(const std::vector<uint8_t>& blob) {
    return shm::WeightSlot(*segment).publish(blob.data(), blob.size(), kTestLayoutTag);
  }
  uint64_t publish_tictactoe(uint64_t seed) {
    return publish(network_blob("tictactoe", config.net, seed));
  }

  // fork/exec the actor the way the supervisor does; stderr goes to dir/actor-<slot>.log.
  pid_t spawn(int slot, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {kActorBinary,         "--shm",    config.shm.name, "--slot",
                                     std::to_string(slot), "--config", config_path};
    args.insert(args.end(), extra.begin(), extra.end());
    return rz::testing::spawn(args, log_path(slot));
  }
  std::string log_path(int slot) const { return dir + "/actor-" + std::to_string(slot) + ".log"; }

  const shm::SlotSnapshot* stats_of(const std::vector<shm::SlotSnapshot>& all, int slot) const {
    for (const auto& s : all)
      if (s.role == shm::Role::kActor && s.index == uint32_t(slot)) return &s;
    return nullptr;
  }
};

// Waits until the actor `pid` has claimed its stats slot (it claims it right before its
// lane, so the lane is taken moments later). Process start with LibTorch takes a while on a
// loaded machine; fixed sleeps would be flaky.
bool wait_attached(const ActorRun& run, int slot, pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    const auto all = shm::read_stats(*run.segment);
    const auto* s = run.stats_of(all, slot);
    if (s && s->pid == uint32_t(pid)) {
      std::this_thread::sleep_for(100ms);  // StatsWriter -> LaneWriter: microseconds apart
      return true;
    }
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

struct Received {
  uint32_t lane;
  uint64_t sequence;
  rz::DecodedTrajectory trajectory;
};

// Drains records until `until` says enough or the time is up. Every record must decode.
template <typename Until>
std::vector<Received> drain(shm::RingReader& reader, const rz::Game& game,
                            std::chrono::milliseconds limit, Until until) {
  std::vector<Received> out;
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline && !until(out)) {
    auto rec = reader.peek();
    if (!rec) {
      reader.wait(50ms);
      continue;
    }
    Received r{rec->lane, rec->sequence, {}};
    try {
      r.trajectory = rz::decode_trajectory(rec->data, rec->size, game);
    } catch (const rz::TrajectoryError& e) {
      FAIL("actor record failed to decode: " << e.what());
    }
    reader.release(*rec);
    out.push_back(std::move(r));
  }
  CHECK(reader.corrupt_records_skipped() == 0);  // the ring never saw a damaged record
  return out;
}

std::vector<Received> drain_count(shm::RingReader& reader, const rz::Game& game, size_t n,
                                  std::chrono::milliseconds limit) {
  return drain(reader, game, limit, [n](const std::vector<Received>& v) { return v.size() >= n; });
}

}  // namespace

TEST_CASE("actor: waits for weights, plays valid games, switches weights, stops on the stop flag") {
  ActorRun run;
  const pid_t pid = run.spawn(0);

  // No weights yet: the actor is alive, heartbeating, and writes nothing.
  REQUIRE(wait_attached(run, 0, pid, 15s));
  std::this_thread::sleep_for(300ms);
  REQUIRE(::waitpid(pid, nullptr, WNOHANG) == 0);
  shm::RingReader reader(*run.segment);
  CHECK_FALSE(reader.peek().has_value());
  {
    const auto all = shm::read_stats(*run.segment);
    const auto* s = run.stats_of(all, 0);
    REQUIRE(s != nullptr);
    CHECK(s->pid == uint32_t(pid));
    CHECK(s->state == shm::ProcessState::kStarting);
  }

  REQUIRE(run.publish_tictactoe(1) == 1);
  auto first = drain_count(reader, *run.game, 6, 15s);
  INFO("actor log: " << read_file(run.log_path(0)));
  REQUIRE(first.size() >= 6);
  for (size_t i = 0; i < first.size(); ++i) {
    const auto& r = first[i];
    CHECK(r.lane == 0);
    CHECK(r.sequence == i);
    CHECK(r.trajectory.origin.actor_slot == 0);
    CHECK(r.trajectory.origin.game_id == r.sequence);  // the game id is the lane sequence
    CHECK(r.trajectory.origin.game_spec_hash == rz::game_spec_hash(run.game->spec()));
    CHECK(r.trajectory.min_weight_version == 1);
    CHECK(r.trajectory.max_weight_version == 1);
    CHECK(r.trajectory.game.positions.size() >= 5);  // tic-tac-toe cannot end sooner
  }

  // Version 2: games started after the switch carry it in every position.
  REQUIRE(run.publish_tictactoe(2) == 2);
  auto later = drain(reader, *run.game, 15s, [](const std::vector<Received>& v) {
    return !v.empty() && v.back().trajectory.min_weight_version == 2;
  });
  REQUIRE(!later.empty());
  CHECK(later.back().trajectory.min_weight_version == 2);
  for (const auto& r : later) CHECK(r.trajectory.max_weight_version <= 2);

  // Counters in the stats slot agree with what arrived.
  std::this_thread::sleep_for(200ms);
  {
    const auto all = shm::read_stats(*run.segment);
    const auto* s = run.stats_of(all, 0);
    REQUIRE(s != nullptr);
    CHECK(s->state == shm::ProcessState::kRunning);
    CHECK(s->value("records_committed") >= first.size() + later.size());
    CHECK(s->value("games") == s->value("records_committed"));
    CHECK(s->value("positions") >= 5 * s->value("games"));
    CHECK(s->value("simulations") > 0);
    CHECK(s->value("bytes_committed") > 0);
    CHECK(s->value("weight_switches") == 1);
    for (const auto& m : s->metrics)
      if (m.name == "weight_version") CHECK(m.gauge() == 2.0);
    CHECK(shm::now_monotonic_ns() - s->heartbeat_ns < 5'000'000'000ull);
  }

  // Stop while the actor may be blocked on a lane we no longer drain.
  run.segment->control().request_stop();
  const int status = wait_exit(pid, 5s);
  CHECK(status == 0);
  const std::string log = read_file(run.log_path(0));
  INFO(log);
  CHECK(log.find("switched to weights version 2") != std::string::npos);
  for (const auto& lane : shm::lane_status(*run.segment))
    if (lane.lane == 0) CHECK_FALSE(lane.owner_alive);
  const auto all = shm::read_stats(*run.segment);
  CHECK(run.stats_of(all, 0)->state == shm::ProcessState::kExited);
}

TEST_CASE("actor: the stop flag ends the wait for the first weights") {
  ActorRun run;
  const pid_t pid = run.spawn(1);
  REQUIRE(wait_attached(run, 1, pid, 15s));
  REQUIRE(::waitpid(pid, nullptr, WNOHANG) == 0);
  run.segment->control().request_stop();
  CHECK(wait_exit(pid, 5s) == 0);
  CHECK(read_file(run.log_path(1)).find("before the first weights") != std::string::npos);
}

// Stops the actor with `sig` while it is blocked on a full lane.
void check_signal_while_blocked(int sig) {
  INFO("signal " << sig);
  ActorRun run(/*lane_bytes=*/64 << 10, /*max_record=*/8 << 10);  // fills within moments
  run.publish_tictactoe(1);
  const pid_t pid = run.spawn(0);
  // Wait until the lane is full: more than half of it in flight, and committed records
  // no longer growing.
  uint64_t last = 0, stable_rounds = 0, in_flight = 0;
  const auto deadline = Clock::now() + 15s;
  while (Clock::now() < deadline && (stable_rounds < 5 || in_flight <= (64u << 10) / 2)) {
    std::this_thread::sleep_for(100ms);
    const auto all = shm::read_stats(*run.segment);
    const auto* s = run.stats_of(all, 0);
    const uint64_t now = s ? s->value("records_committed") : 0;
    stable_rounds = (now > 0 && now == last) ? stable_rounds + 1 : 0;
    last = now;
    in_flight = shm::lane_status(*run.segment)[0].bytes_in_flight;
  }
  REQUIRE(stable_rounds >= 5);
  REQUIRE(in_flight > (64u << 10) / 2);  // really blocked on space
  REQUIRE(::waitpid(pid, nullptr, WNOHANG) == 0);
  // Blocked is not hung: the heartbeat stays fresh.
  std::this_thread::sleep_for(1200ms);
  {
    const auto all = shm::read_stats(*run.segment);
    const auto* s = run.stats_of(all, 0);
    REQUIRE(s != nullptr);
    CHECK(s->value("records_committed") == last);
    CHECK(shm::now_monotonic_ns() - s->heartbeat_ns < 600'000'000ull);
  }

  ::kill(pid, sig);
  CHECK(wait_exit(pid, 5s) == 0);
  {
    const auto all = shm::read_stats(*run.segment);
    CHECK(run.stats_of(all, 0)->value("lane_wait_ms") >= 1200);  // the time it was blocked
  }
  // What it committed is intact.
  shm::RingReader reader(*run.segment);
  const auto got = drain_count(reader, *run.game, last, 5s);
  CHECK(got.size() == last);
}

TEST_CASE("actor: SIGTERM exits 0, even while blocked on a full lane") {
  check_signal_while_blocked(SIGTERM);
}

TEST_CASE("actor: SIGINT exits 0, even while blocked on a full lane") {
  check_signal_while_blocked(SIGINT);
}

TEST_CASE("actor: after SIGKILL a restarted actor takes the lane over and continues") {
  ActorRun run;
  run.publish_tictactoe(1);
  shm::RingReader reader(*run.segment);
  pid_t pid = run.spawn(0);
  auto before = drain_count(reader, *run.game, 4, 15s);
  REQUIRE(before.size() >= 4);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  // Whatever it committed before dying is still there, then the new actor's records follow.
  pid = run.spawn(0);
  auto after = drain(reader, *run.game, 15s, [&](const std::vector<Received>& v) {
    return v.size() >= 20;  // well past anything the first actor left in the lane
  });
  REQUIRE(after.size() >= 20);
  uint64_t expected = before.back().sequence + 1;
  for (const auto& r : after) {
    CHECK(r.sequence == expected++);  // no gap, no repeat
    CHECK(r.trajectory.origin.game_id == r.sequence);
  }
  const std::string log = read_file(run.log_path(0));
  INFO(log);
  CHECK(log.find("(taken over)") != std::string::npos);
  {
    const auto all = shm::read_stats(*run.segment);
    const auto* s = run.stats_of(all, 0);
    REQUIRE(s != nullptr);
    CHECK(s->restarts == 1);
    CHECK(s->pid == uint32_t(pid));
  }
  run.segment->control().request_stop();
  CHECK(wait_exit(pid, 5s) == 0);
}

TEST_CASE("actor: weights of another network are refused with one clear line") {
  struct Case {
    std::string game;
    rz::NetConfig net;
    std::string expect;
  };
  for (const Case& c : {Case{"connect4", {1, 8}, "connect4"}, Case{"tictactoe", {2, 8}, "2x8"}}) {
    INFO(c.game << " " << c.net.shape_string());
    ActorRun run;
    run.publish(network_blob(c.game, c.net, 3));
    const pid_t pid = run.spawn(0);
    const int status = wait_exit(pid, 10s);
    CHECK(status == 1);
    const std::string log = read_file(run.log_path(0));
    INFO(log);
    CHECK(log.find("do not fit this actor's network (tictactoe 1x8)") != std::string::npos);
    CHECK(log.find(c.expect) != std::string::npos);
    // The error is the log's last line, and a single one.
    const auto last_line_start = log.rfind('\n', log.size() - 2);
    CHECK(log.substr(last_line_start + 1).find("ringzero-actor: weights version 1") == 0);
    shm::RingReader reader(*run.segment);
    CHECK_FALSE(reader.peek().has_value());  // nothing half-made reached the ring
  }
}

TEST_CASE("actor: --help, a bad slot and bad options") {
  ActorRun run;
  pid_t help = run.spawn(0, {"--help"});
  CHECK(wait_exit(help, 10s) == 0);
  const std::string help_text = read_file(run.log_path(0));
  CHECK(help_text.find("--slot K") != std::string::npos);
  CHECK(help_text.find("--actor.games_in_flight") != std::string::npos);
  std::filesystem::remove(run.log_path(0));

  pid_t pid = run.spawn(7);  // the segment has 2 lanes
  CHECK(wait_exit(pid, 10s) == 1);
  CHECK(read_file(run.log_path(7)).find("--slot 7 is out of range") != std::string::npos);

  pid = run.spawn(0, {"--learner.batch_size", "-3"});
  CHECK(wait_exit(pid, 10s) == 2);
  CHECK(read_file(run.log_path(0)).find("learner.batch_size") != std::string::npos);
}

TEST_CASE("actor: a second actor on a live lane is refused, the first undisturbed") {
  ActorRun run;
  const pid_t first = run.spawn(1);
  REQUIRE(wait_attached(run, 1, first, 15s));  // it owns lane 1 now (waiting for weights)
  const pid_t second = run.spawn(1);
  CHECK(wait_exit(second, 10s) == 1);
  CHECK(::waitpid(first, nullptr, WNOHANG) == 0);  // the owner is undisturbed...
  {
    const auto all = shm::read_stats(*run.segment);
    const auto* s = run.stats_of(all, 1);
    REQUIRE(s != nullptr);
    CHECK(s->pid == uint32_t(first));  // ...and so is its stats slot
    CHECK(s->restarts == 0);
  }
  CHECK(read_file(run.log_path(1)).find(fmt::format("is owned by live process {}", first)) !=
        std::string::npos);
  ::kill(first, SIGTERM);
  CHECK(wait_exit(first, 5s) == 0);
}

TEST_CASE("actor: no CUDA library is mapped into a running actor") {
  ActorRun run;
  run.publish_tictactoe(1);
  const pid_t pid = run.spawn(0);
  shm::RingReader reader(*run.segment);
  REQUIRE(drain_count(reader, *run.game, 1, 15s).size() == 1);  // network loaded and used

  const std::string maps = read_file("/proc/" + std::to_string(pid) + "/maps");
  REQUIRE(!maps.empty());
  std::string torch_dir;
  std::istringstream lines(maps);
  for (std::string line; std::getline(lines, line);) {
    // Not libcudart/libcupti: the CUDA wheel's libtorch_cpu.so itself needs them (checked in
    // test_launch_processes against that file); what makes a CUDA context is libcuda (the
    // driver) and LibTorch's CUDA half, and those are never here.
    for (const char* lib : {"libcuda.so", "libnvrtc", "libc10_cuda", "libtorch_cuda", "libnccl",
                            "libcudnn", "libcublas"}) {
      INFO(line);
      CHECK(line.find(lib) == std::string::npos);
    }
    // libtorch_cpu: the actor links LibTorch's CPU part only (cmake/ringzero_torch.cmake).
    const auto at = line.find("/libtorch_cpu.so");
    if (at != std::string::npos && torch_dir.empty())
      torch_dir = line.substr(line.find('/'), at - line.find('/'));
  }
  REQUIRE(!torch_dir.empty());  // the actor really runs LibTorch
  const bool torch_has_cuda = std::filesystem::exists(torch_dir + "/libtorch_cuda.so") ||
                              std::filesystem::exists(torch_dir + "/libc10_cuda.so");
  if (!torch_has_cuda)
    WARN("the LibTorch in use ("
         << torch_dir
         << ") has no CUDA libraries at all: this test "
            "guards against a CUDA LibTorch being linked into the actor later");
  ::kill(pid, SIGTERM);
  CHECK(wait_exit(pid, 5s) == 0);
}

TEST_CASE("actor: stops by itself when the run's creator is SIGKILLed") {
  ActorRun run(256 << 10, 32 << 10, /*create_segment=*/false);
  const auto blob = network_blob("tictactoe", run.config.net, 1);
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  // A stand-in supervisor: creates the segment, publishes weights, then just lives.
  const pid_t creator = ::fork();
  REQUIRE(creator >= 0);
  if (creator == 0) {
    try {
      auto seg = shm::Segment::create(run.config.shm.name, run.sizes(), "supervisor stand-in");
      shm::WeightSlot(*seg).publish(blob.data(), blob.size(), kTestLayoutTag);
      (void)!::write(ready[1], "r", 1);
      for (;;) ::pause();
    } catch (...) {
      ::_exit(3);
    }
  }
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(ready[0]);
  ::close(ready[1]);
  run.segment = shm::Segment::open(run.config.shm.name);

  const pid_t pid = run.spawn(0);
  REQUIRE(wait_attached(run, 0, pid, 15s));
  ::kill(creator, SIGKILL);
  ::waitpid(creator, nullptr, 0);
  CHECK(wait_exit(pid, 5s) == 0);
  const std::string log = read_file(run.log_path(0));
  INFO(log);
  CHECK(log.find("is gone") != std::string::npos);
}
