// Test harness for multi-process learner tests: a real run directory, a real segment, real
// trajectory records from real (uniform-prior) self-play, and the real binaries started with
// fork/exec (tests/support/child_process.h). Header-only; shared by tests/learner, tests/e2e,
// tests/eval and tests/play.
#pragma once

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/config_options.h"
#include "common/game.h"
#include "common/mcts/selfplay.h"
#include "common/mcts/uniform_evaluator.h"
#include "common/trajectory.h"
#include "learner/learner_region.h"
#include "learner/replay_window.h"
#include "shm/segment.h"
#include "shm/stats.h"
#include "shm/trajectory_ring.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace rz::testing {

using namespace std::chrono_literals;

// A small, fast tic-tac-toe run configuration.
inline RunConfig small_config(const std::string& run_dir, const std::string& game = "tictactoe") {
  RunConfig c;
  c.game = game;
  c.seed = 7;
  c.run_dir = run_dir;
  c.net.blocks = 1;
  c.net.filters = 16;
  c.mcts.simulations = 16;
  c.actor.games_in_flight = 8;
  c.learner.batch_size = 32;
  c.learner.lr = 0.05;
  c.learner.replay_positions = 3000;
  c.learner.min_replay = 64;
  c.learner.samples_per_position = 4;
  c.learner.publish_every = 10;
  c.learner.checkpoint_every = 40;
  c.learner.checkpoint_seconds = 0;
  c.learner.keep_checkpoints = 3;
  c.learner.metrics_seconds = 0.5;
  c.learner.threads = 1;
  c.learner.device = "cpu";
  c.launch.actors = 2;
  c.shm.name =
      "/rz-test-" + std::to_string(::getpid()) + "-" + run_dir.substr(run_dir.rfind('-') + 1);
  c.shm.lane_bytes = 1 << 20;
  c.shm.max_record_bytes = 1 << 16;
  c.shm.weight_bytes = 4 << 20;
  c.shm.stats_slots = 16;
  return c;
}

// A run whose segment the test creates, as the supervisor would, for the roles the test
// starts by hand: run directory + config.ini + segment; removes both on exit (set
// RZ_KEEP_TEST_DIRS=1 to keep the directory, logs and metrics for a look after a failure).
struct SegmentRun {
  TempDir temp;
  std::string dir;
  RunConfig config;
  std::unique_ptr<shm::Segment> segment;

  explicit SegmentRun(const std::string& tag, const std::string& game = "tictactoe",
                      std::function<void(RunConfig&)> tweak = nullptr)
      : temp(tag), dir(temp.path()) {
    config = small_config(dir, game);
    if (tweak) tweak(config);
    ::mkdir((dir + "/logs").c_str(), 0755);
    write_config_atomically(config, dir + "/config.ini");
    shm::SegmentSizes sizes;
    sizes.lanes = static_cast<uint32_t>(config.launch.actors);
    sizes.lane_bytes = config.shm.lane_bytes;
    sizes.max_record_bytes = config.shm.max_record_bytes;
    sizes.weight_bytes = config.shm.weight_bytes;
    sizes.stats_slots = static_cast<uint32_t>(config.shm.stats_slots);
    sizes.learner_region_bytes = learner_region_bytes_for(config);
    segment = shm::Segment::create(config.shm.name, sizes, "test run " + dir);
  }
  ~SegmentRun() {
    segment.reset();
    shm::Segment::remove(config.shm.name);
  }
  std::string config_path() const { return dir + "/config.ini"; }

  // Stats slot of (role, index), or nullptr.
  std::unique_ptr<shm::SlotSnapshot> slot(shm::Role role, uint32_t index) const {
    for (auto& s : shm::read_stats(*segment))
      if (s.role == role && s.index == index) return std::make_unique<shm::SlotSnapshot>(s);
    return nullptr;
  }
  uint64_t learner_metric(const std::string& name) const {
    auto s = slot(shm::Role::kLearner, 0);
    return s ? s->value(name) : 0;
  }
};

// `head` (the binary, a subcommand), then the options that attach a role to `run` (--shm,
// --run-dir, --config), then `tail`.
inline std::vector<std::string> run_argv(const SegmentRun& run, std::vector<std::string> head,
                                         const std::vector<std::string>& tail = {}) {
  for (const std::string& a : {std::string("--shm"), run.config.shm.name, std::string("--run-dir"),
                               run.dir, std::string("--config"), run.config_path()})
    head.push_back(a);
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

inline std::vector<std::string> learner_argv(const SegmentRun& run, bool resume = false,
                                             std::vector<std::string> extra = {}) {
  if (resume) extra.insert(extra.begin(), "--resume");
  return run_argv(run, {RZ_BINARY_DIR "/learner/ringzero-learner"}, extra);
}

// Runs the learner to --learner.max_steps=`steps` (it then writes its final checkpoint and
// exits) and requires a clean exit within `timeout`. Its output goes to RUN/logs/`log`.
inline void train_steps(const SegmentRun& run, int steps, const std::string& log = "first.log",
                        std::chrono::duration<double> timeout = 30s) {
  pid_t pid = spawn(learner_argv(run, false, {"--learner.max_steps=" + std::to_string(steps)}),
                    run.dir + "/logs/" + log);
  KillOnExit guard{&pid};
  REQUIRE(wait_exit(pid, timeout) == 0);
}

// How a learner ended after the run's stop flag: its exit status and its whole log.
struct Stopped {
  int status;
  std::string log;
};

// Sets the run's stop flag, waits up to 20 s for the role `pid` to exit, reads its log.
inline Stopped stop_and_read(const SegmentRun& run, pid_t pid,
                             const std::string& log = "learner.log") {
  run.segment->control().request_stop();
  const int status = wait_exit(pid, 20s);
  return {status, read_file(run.dir + "/logs/" + log)};
}

// Real self-play records: `n` games of uniform-prior MCTS, encoded as the actor encodes them.
inline std::vector<std::vector<uint8_t>> selfplay_records(const Game& game, int n, uint64_t seed,
                                                          uint32_t slot = 0) {
  UniformEvaluator evaluator(game);
  MctsConfig mcts;
  mcts.simulations = 16;
  SelfPlayDriver driver(game, evaluator, mcts, 8, seed);
  std::vector<FinishedGame> finished;
  while (static_cast<int>(finished.size()) < n) driver.run_round(&finished);
  std::vector<std::vector<uint8_t>> records(n);
  for (int i = 0; i < n; ++i) {
    TrajectoryOrigin origin;
    origin.game_spec_hash = game_spec_hash(game.spec());
    origin.actor_slot = slot;
    origin.game_id = static_cast<uint64_t>(i);
    encode_trajectory(finished[i], origin, &records[i]);
  }
  return records;
}

// selfplay_records of tic-tac-toe, made once per (n, seed) in this process (a test binary's
// cases share them).
inline const std::vector<std::vector<uint8_t>>& tictactoe_records(int n, uint64_t seed) {
  static std::map<std::pair<int, uint64_t>, std::vector<std::vector<uint8_t>>> made;
  auto it = made.find({n, seed});
  if (it == made.end())
    it = made.emplace(std::make_pair(n, seed), selfplay_records(*make_game("tictactoe"), n, seed))
             .first;
  return it->second;
}

// Commits records[from, to) into `lane`, as an actor would.
inline void write_records(shm::Segment& segment, uint32_t lane,
                          const std::vector<std::vector<uint8_t>>& records, size_t from,
                          size_t to) {
  shm::LaneWriter writer(segment, lane);
  for (size_t i = from; i < to; ++i) REQUIRE(writer.write(records[i].data(), records[i].size()));
}

// Records committed to the lanes and not yet released by a consumer.
inline uint64_t records_in_lanes(const shm::Segment& seg) {
  uint64_t n = 0;
  for (const auto& l : shm::lane_status(seg)) n += l.records_committed - l.records_consumed;
  return n;
}

// The replay window's books in the segment, read without a learner.
inline ReplayCounts region_counts(const SegmentRun& run) {
  return ReplayWindow::inspect(run.segment->learner_region(), run.segment->learner_region_bytes());
}

// Damages a file the way a bad sector would: one bit of its middle byte flipped.
inline void flip_middle_byte(const std::string& path) {
  std::string bytes = read_file(path);
  bytes[bytes.size() / 2] ^= 0x01;
  write_file(path, bytes);
}

// Data rows of a metrics.csv (header skipped), each split into fields.
inline std::vector<std::vector<std::string>> metrics_rows(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  const std::vector<std::string> lines = read_lines(path);
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) f.push_back(cell);
    rows.push_back(f);
  }
  return rows;
}

}  // namespace rz::testing
