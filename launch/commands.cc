// The small subcommands of ringzero-launch: stop, status, restart-learner, monitor.
#include "launch/commands.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/file_lock.h"
#include "common/run_config.h"
#include "launch/command_support.h"
#include "launch/process_liveness.h"
#include "launch/run_dir.h"
#include "launch/run_segment.h"
#include "launch/run_snapshot.h"
#include "launch/stats_snapshot.h"
#include "shm/segment.h"
#include "shm/stats.h"

namespace rz::launch {

namespace {

// --run-dir DIR, --timeout S and --help for the small subcommands; anything else is refused.
struct SimpleArgs {
  std::string run_dir;
  int timeout_s = 0;
  bool help = false;
};

SimpleArgs parse_simple(int argc, char** argv, const std::string& command, int default_timeout) {
  SimpleArgs args;
  args.timeout_s = default_timeout;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    std::string value;
    bool has_value = false;
    if (const auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) throw UsageError(fmt::format("{} needs a value", a));
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      args.help = true;
    } else if (a == "--run-dir") {
      args.run_dir = next();
    } else if (a == "--timeout") {
      const std::string v = next();
      try {
        args.timeout_s = std::stoi(v);
      } catch (const std::exception&) {
        args.timeout_s = -1;
      }
      if (args.timeout_s <= 0) {
        throw UsageError(
            fmt::format("--timeout must be a positive number of seconds, not '{}'", v));
      }
    } else {
      throw UsageError(fmt::format("{}: unknown argument '{}' (see {} {} --help)", command, argv[i],
                                   script(), command));
    }
  }
  if (!args.help && args.run_dir.empty()) {
    throw UsageError(
        fmt::format("{} needs --run-dir DIR (the directory `start` printed)", command));
  }
  return args;
}

// `stop` of a run whose supervisor is dead (SIGKILLed): what it left behind. A learner that
// outlived it (writing its final checkpoint) is asked to finish and waited for; then the
// segment goes, but only if it is this run's (its header records this run directory and
// token) and its creator is dead: never a foreign object, another build's segment, one
// being created, or another run's.
void stop_orphans(const RunDir& dir, int timeout_s) {
  const std::string checkpoint_lock = dir.checkpoints_dir() + "/lock";
  pid_t learner = 0;
  if (FileLock::held(checkpoint_lock, &learner)) {
    std::printf("ringzero: the learner (pid %d) outlived its supervisor: asking it to stop\n",
                learner);
    std::fflush(stdout);
    if (learner > 0) ::kill(learner, SIGTERM);  // it holds the lock: alive, not a reused pid
    if (!wait_until([&] { return !FileLock::held(checkpoint_lock); },
                    std::chrono::seconds(timeout_s))) {
      throw std::runtime_error(fmt::format(
          "the learner (pid {}) of {} did not stop within {} s; kill it (kill -9 {}) and run stop "
          "again",
          learner, dir.path(), timeout_s, learner));
    }
  }
  const std::string name = shm_name_of(dir);
  const SegmentCheck c = check_segment(dir, name);
  if (c.owner == SegmentOwner::kNone) return;
  if (c.owner != SegmentOwner::kThisRun || c.creator_alive) {
    std::printf(
        "ringzero: left the shared memory %s alone: %s\n", name.c_str(),
        c.owner == SegmentOwner::kUnknown ? c.why.c_str()
        : c.owner == SegmentOwner::kOtherRun
            ? fmt::format("it belongs to the run in {} (another run token)", c.run_dir).c_str()
            : "its creator is alive");
    return;
  }
  // The killed supervisor's counters are fresher than its last RUN/stats.snapshot: keep
  // them for the next start --resume before the segment goes.
  try {
    const auto left = shm::Segment::open(name, /*read_only=*/true);
    save_stats_snapshot(*left, dir.stats_snapshot_file());
  } catch (const std::exception&) {
    // An unusable one: the file stays as it was.
  }
  if (shm::Segment::remove(name)) {
    std::printf("ringzero: removed the shared memory %s left by a killed supervisor\n",
                name.c_str());
  }
}

}  // namespace

int stop_command(int argc, char** argv) {
  const SimpleArgs args = parse_simple(argc, argv, "stop", 120);
  if (args.help) {
    std::printf(
        "usage: %s stop --run-dir DIR [--timeout S]\n"
        "Stops a run cleanly: the learner writes a final checkpoint, every process exits,\n"
        "the shared memory is removed. Waits up to S seconds (default 120).\n",
        script().c_str());
    return 0;
  }
  const RunDir dir(args.run_dir);
  require_run(dir);
  pid_t pid = 0;
  if (!supervisor_alive(dir, &pid)) {
    stop_orphans(dir, args.timeout_s);
    std::printf("ringzero: run %s is not running\n", dir.path().c_str());
    return 0;
  }
  std::printf(
      "ringzero: stopping run %s (supervisor pid %d); the learner writes a final checkpoint\n",
      dir.path().c_str(), pid);
  std::fflush(stdout);
  if (pid > 0) ::kill(pid, SIGTERM);  // the lock's holder: alive, so this pid is not reused
  if (!wait_until([&] { return !supervisor_alive(dir, &pid); },
                  std::chrono::seconds(args.timeout_s))) {
    fmt::print(stderr,
               "ringzero-launch: the run did not stop within {} s; see {} (a second stop "
               "kills every process)\n",
               args.timeout_s, dir.log_file("launch"));
    return 1;
  }
  std::printf("ringzero: run %s stopped; continue it with: %s start --resume --run-dir %s\n",
              dir.path().c_str(), script().c_str(), shell_quote(dir.path()).c_str());
  return 0;
}

int status_command(int argc, char** argv) {
  const SimpleArgs args = parse_simple(argc, argv, "status", 0);
  if (args.help) {
    std::printf(
        "usage: %s status --run-dir DIR\n"
        "Prints every role of the run (pid, alive, counters, restarts). Exit code 0 when\n"
        "the run is running, 3 when it is not.\n",
        script().c_str());
    return 0;
  }
  const RunDir dir(args.run_dir);
  require_run(dir);
  const std::string name = shm_name_of(dir);
  pid_t pid = 0;
  if (!supervisor_alive(dir, &pid) || !shm::Segment::creator_alive(name)) {
    std::printf(
        "ringzero: run %s is not running; continue it with: %s start --resume --run-dir %s\n",
        dir.path().c_str(), script().c_str(), shell_quote(dir.path()).c_str());
    for (const auto& [role, r] : read_role_records(dir)) {
      // The records are the supervisor's last word: after a SIGKILL they still say
      // "running". What is true now comes from /proc.
      std::string state = r.state;
      if (r.pid > 0 && process_alive(r.pid, "ringzero-")) {
        state = fmt::format("still alive as pid {} without a supervisor (stop ends it)", r.pid);
      } else if (state != "stopped" && state != "gave-up" && state != "failed") {
        state = r.pid > 0 ? fmt::format("dead (was {} as pid {})", r.state, r.pid)
                          : fmt::format("dead (was {})", r.state);
      }
      std::printf("  %-9s %s, %u restart%s%s%s\n", role.c_str(), state.c_str(), r.restarts,
                  r.restarts == 1 ? "" : "s", r.note.empty() ? "" : ": ", r.note.c_str());
    }
    return 3;
  }
  const auto segment = shm::Segment::open(name, /*read_only=*/true);
  std::fputs(snapshot_table(take_snapshot(*segment, dir.path()), ::isatty(STDOUT_FILENO)).c_str(),
             stdout);
  return 0;
}

int restart_learner_command(int argc, char** argv) {
  const SimpleArgs args = parse_simple(argc, argv, "restart-learner", 120);
  if (args.help) {
    std::printf(
        "usage: %s restart-learner --run-dir DIR [--timeout S]\n"
        "Restarts the learner alone: it writes a checkpoint, exits, and a new learner\n"
        "resumes from that checkpoint while the actors keep playing. Waits up to S\n"
        "seconds (default 120) for the new learner to be running.\n",
        script().c_str());
    return 0;
  }
  const RunDir dir(args.run_dir);
  require_run(dir);
  pid_t pid = 0;
  if (!supervisor_alive(dir, &pid)) {
    throw UsageError(
        fmt::format("run {} is not running; start it with {} start --resume --run-dir {}",
                    dir.path(), script(), shell_quote(dir.path())));
  }
  const auto segment = shm::Segment::open(shm_name_of(dir), /*read_only=*/false);
  shm::ControlBlock& control = segment->control();
  const uint32_t old_pid = control.learner_pid.load();
  const uint32_t request = control.learner_restart_requested.fetch_add(1) + 1;
  std::printf("ringzero: asked supervisor %d to restart the learner (pid %u)\n", pid, old_pid);
  std::fflush(stdout);
  auto new_learner_running = [&] {
    if (control.learner_restarts_done.load(std::memory_order_acquire) < request) return false;
    const uint32_t now_pid = control.learner_pid.load();
    for (const shm::SlotSnapshot& s : shm::read_stats(*segment)) {
      if (s.role == shm::Role::kLearner && s.pid == now_pid &&
          s.state == shm::ProcessState::kRunning) {
        return true;
      }
    }
    return false;
  };
  if (!wait_until(new_learner_running, std::chrono::seconds(args.timeout_s))) {
    fmt::print(stderr, "ringzero-launch: no new learner running after {} s; see {} and {}\n",
               args.timeout_s, dir.log_file("launch"), dir.log_file("learner"));
    return 1;
  }
  std::printf(
      "ringzero: learner restarted: pid %u -> %u; it resumed from its checkpoint (see %s)\n",
      old_pid, control.learner_pid.load(), dir.log_file("learner").c_str());
  return 0;
}

int monitor_command(int argc, char** argv) {
  const std::string monitor = child_binary("RZ_MONITOR_BINARY", "ringzero-monitor");
  std::vector<char*> args = {const_cast<char*>(monitor.c_str())};
  for (int i = 0; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(monitor.c_str(), args.data());
  throw std::runtime_error(fmt::format("cannot run {}: {}", monitor, std::strerror(errno)));
}

int run_command(const std::function<int()>& command) {
  try {
    return command();
  } catch (const UsageError& e) {
    fmt::print(stderr, "ringzero-launch: {}\n", e.what());
    return 2;
  } catch (const ConfigError& e) {
    fmt::print(stderr, "ringzero-launch: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "ringzero-launch: {}\n", e.what());
    return 1;
  }
}

}  // namespace rz::launch
