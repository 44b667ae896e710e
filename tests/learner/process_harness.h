// Test harness for multi-process learner tests: a real run directory, a real segment, real
// trajectory records from real (uniform-prior) self-play, and the real binaries started with
// fork/exec. Header-only; shared by tests/learner and tests/e2e.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/config_options.h"
#include "common/game.h"
#include "common/mcts/selfplay.h"
#include "common/mcts/uniform_evaluator.h"
#include "common/trajectory.h"
#include "learner/learner_region.h"
#include "shm/segment.h"
#include "shm/stats.h"

namespace rz::testing {

inline std::string make_temp_dir(const std::string& tag) {
  std::string tmpl = "/tmp/rz-" + tag + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  return buf.data();
}

// A temporary directory removed with everything in it at scope exit.
struct TempDir {
  explicit TempDir(const std::string& tag) : path(make_temp_dir(tag)) {}
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string path;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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

// Run directory + config.ini + segment; removes both on exit (set RZ_KEEP_TEST_DIRS=1 to keep
// the directory, logs and metrics for a look after a failure).
struct TestRun {
  std::string dir;
  RunConfig config;
  std::unique_ptr<shm::Segment> segment;

  explicit TestRun(const std::string& tag, const std::string& game = "tictactoe",
                   std::function<void(RunConfig&)> tweak = nullptr) {
    dir = make_temp_dir(tag);
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
  ~TestRun() {
    segment.reset();
    shm::Segment::remove(config.shm.name);
    if (!std::getenv("RZ_KEEP_TEST_DIRS")) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
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

// fork/exec `argv` with stdout+stderr appended to `log`. Returns the child's pid.
inline pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::perror("execv");
    ::_exit(127);
  }
  return pid;
}

inline std::vector<std::string> learner_argv(const TestRun& run, bool resume = false,
                                             std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {RZ_BINARY_DIR "/learner/ringzero-learner",
                                "--shm",
                                run.config.shm.name,
                                "--run-dir",
                                run.dir,
                                "--config",
                                run.config_path()};
  if (resume) a.push_back("--resume");
  for (auto& e : extra) a.push_back(e);
  return a;
}

// Waits for `pid` to exit within `seconds`; returns its exit status (or -signal), or -1000
// on timeout (the child is then killed).
inline int wait_exit(pid_t pid, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return -1000;
}

// Polls `cond` every 20 ms until true or `seconds` pass.
inline bool wait_until(const std::function<bool()>& cond, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
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

// Data rows of a metrics.csv (header skipped), each split into fields.
inline std::vector<std::vector<std::string>> metrics_rows(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_text(path));
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) f.push_back(cell);
    rows.push_back(f);
  }
  return rows;
}

}  // namespace rz::testing
