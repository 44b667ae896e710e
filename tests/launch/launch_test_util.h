// Helpers for the launch tests: run the real launch commands as a user would, read the
// monitor's JSON, and clean up a run even when a test fails halfway (a leftover supervisor
// would disturb the next test). Waiting, files and commands: tests/support/.
#pragma once

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include "launch/process_liveness.h"
#include "launch/run_dir.h"
#include "tests/launch/mini_json.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace rz::testing {

inline const std::string kLaunch = RZ_BINARY_DIR "/launch/ringzero-launch";
inline const std::string kMonitor = RZ_BINARY_DIR "/launch/ringzero-monitor";

// Tiny network and searches: a run's processes come up in a second or two and the learner
// trains, publishes and checkpoints every few seconds. LaunchedRun::start adds no evaluator (on
// by default): these runs time restarts and stops; kTinyEval turns it on where a test is
// about it.
inline const std::string kTinyRun =
    " --game tictactoe --net.blocks 1 --net.filters 8 --mcts.simulations 8"
    " --actor.games_in_flight 4 --learner.batch_size 16 --learner.min_replay 30"
    " --learner.publish_every 5 --learner.checkpoint_every 10 --learner.metrics_seconds 1"
    " --learner.replay_positions 5000 --shm.lane_bytes 1048576 --shm.max_record_bytes 65536"
    " --launch.restart_backoff_ms 200 --seed 7";
// The evaluator on, with arenas small enough to finish within seconds.
inline const std::string kTinyEval =
    " --eval.enabled true --eval.games 2 --eval.sims 8 --eval.opponent_sims 8"
    " --eval.every_versions 1";

// One run started through ringzero-launch (as launch.sh starts it), in a fresh temporary
// directory; the destructor stops it (or kills what is left).
class LaunchedRun {
 public:
  LaunchedRun() : base(make_temp_dir("launch-test")), dir(base + "/run") {}
  ~LaunchedRun() { cleanup(); }

  CommandResult start(const std::string& extra = "") {
    const std::string eval =
        extra.find("--eval.enabled") == std::string::npos ? " --eval.enabled false" : "";
    return run_command(kLaunch + " start --detach --actors 2 --run-dir " + quoted_dir() + kTinyRun +
                       eval + " " + extra);
  }
  CommandResult command(const std::string& sub, const std::string& extra = "") {
    return run_command(kLaunch + " " + sub + " --run-dir " + quoted_dir() + " " + extra);
  }
  // The run directory as one shell word (tests use one with a space in it).
  std::string quoted_dir() const { return "'" + dir + "'"; }
  // One monitor snapshot; throws if the monitor fails or prints malformed JSON.
  Json snapshot() {
    const CommandResult r = run_command(kMonitor + " --run-dir " + quoted_dir() + " --once --json");
    if (r.code != 0) throw std::runtime_error("monitor failed: " + r.output);
    return parse_json(r.output);
  }
  pid_t pid_of(const std::string& role) const {
    return launch::read_pid_file(dir + "/pids/" + role + ".pid");
  }
  std::string shm_name() const { return launch::read_shm_name(launch::RunDir(dir)); }
  bool shm_exists() const { return std::filesystem::exists("/dev/shm" + shm_name()); }
  std::string log(const std::string& role) const {
    return read_file(dir + "/logs/" + role + ".log");
  }

  void cleanup() {
    if (dir.empty()) return;
    const pid_t supervisor = pid_of("launch");
    if (launch::process_alive(supervisor, "ringzero-launch")) command("stop", "--timeout 30");
    // Whatever is still around (a test that killed the supervisor): kill it by pid.
    for (const char* role : {"launch", "learner", "actor-0", "actor-1", "eval"}) {
      const pid_t pid = pid_of(role);
      if (launch::process_alive(pid, "ringzero-")) ::kill(pid, SIGKILL);
    }
    if (!shm_name().empty()) ::unlink(("/dev/shm" + shm_name()).c_str());
    std::error_code ec;
    std::filesystem::remove_all(base, ec);
    dir.clear();
  }

  std::string base;  // the temporary directory; dir is in it (a test may rename dir)
  std::string dir;
};

}  // namespace rz::testing
