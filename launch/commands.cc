// The small subcommands of ringzero-launch: stop, status, restart-learner, monitor.
#include "launch/commands.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/command_line.h"
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

// One of the small subcommands: its name, the rest of its usage line, what it does (for
// --help), its default --timeout, and what it does to the run once its arguments are read.
struct SimpleCommand {
  const char* name;
  const char* usage;
  const char* help;
  int default_timeout_s;
  int (*run)(const RunDir& dir, int timeout_s);
};

// What a small subcommand was asked: the run (which holds a run: require_run) and how long
// to wait.
struct SimpleArgs {
  RunDir dir;
  int timeout_s = 0;
};

// Reads --run-dir DIR, --timeout S and --help; anything else is refused. Returns nothing
// after printing the help for --help.
std::optional<SimpleArgs> parse_simple(int argc, char** argv, const SimpleCommand& command) {
  std::string run_dir;
  int timeout_s = command.default_timeout_s;
  bool help = false;
  for (ArgCursor arg(argc, argv); arg.next();) {
    if (arg.name() == "--help" || arg.name() == "-h") {
      help = true;
    } else if (arg.name() == "--run-dir") {
      run_dir = arg.value();
    } else if (arg.name() == "--timeout") {
      const std::string v = arg.value();
      try {
        timeout_s = std::stoi(v);
      } catch (const std::exception&) {
        timeout_s = -1;
      }
      if (timeout_s <= 0) {
        throw UsageError(
            fmt::format("--timeout must be a positive number of seconds, not '{}'", v));
      }
    } else {
      throw UsageError(fmt::format("{}: unknown argument '{}' (see {} {} --help)", command.name,
                                   arg.raw(), script(), command.name));
    }
  }
  if (help) {
    std::printf("usage: %s %s %s\n%s", script().c_str(), command.name, command.usage, command.help);
    return std::nullopt;
  }
  if (run_dir.empty()) {
    throw UsageError(
        fmt::format("{} needs --run-dir DIR (the directory `start` printed)", command.name));
  }
  SimpleArgs args{RunDir(run_dir), timeout_s};
  require_run(args.dir);
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

// stop (commands.h): through the supervisor, or (it is dead) what it left behind.
int stop_run(const RunDir& dir, int timeout_s) {
  pid_t pid = 0;
  if (!supervisor_alive(dir, &pid)) {
    stop_orphans(dir, timeout_s);
    std::printf("ringzero: run %s is not running\n", dir.path().c_str());
    return 0;
  }
  std::printf(
      "ringzero: stopping run %s (supervisor pid %d); the learner writes a final checkpoint\n",
      dir.path().c_str(), pid);
  std::fflush(stdout);
  if (pid > 0) ::kill(pid, SIGTERM);  // the lock's holder: alive, so this pid is not reused
  if (!wait_until([&] { return !supervisor_alive(dir, &pid); }, std::chrono::seconds(timeout_s))) {
    fmt::print(stderr,
               "ringzero-launch: the run did not stop within {} s; see {} (a second stop "
               "kills every process)\n",
               timeout_s, dir.log_file("launch"));
    return 1;
  }
  std::printf("ringzero: run %s stopped; continue it with: %s start --resume --run-dir %s\n",
              dir.path().c_str(), script().c_str(), shell_quote(dir.path()).c_str());
  return 0;
}

// status: the live table, or (not running) every role as the records and /proc say.
int show_status(const RunDir& dir, int) {
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

// restart-learner: asks the supervisor through the control block; waits for the new one.
int restart_learner(const RunDir& dir, int timeout_s) {
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
  if (!wait_until(new_learner_running, std::chrono::seconds(timeout_s))) {
    fmt::print(stderr, "ringzero-launch: no new learner running after {} s; see {} and {}\n",
               timeout_s, dir.log_file("launch"), dir.log_file("learner"));
    return 1;
  }
  std::printf(
      "ringzero: learner restarted: pid %u -> %u; it resumed from its checkpoint (see %s)\n",
      old_pid, control.learner_pid.load(), dir.log_file("learner").c_str());
  return 0;
}

constexpr SimpleCommand kStop = {
    "stop", "--run-dir DIR [--timeout S]",
    "Stops a run cleanly: the learner writes a final checkpoint, every process exits,\n"
    "the shared memory is removed. Waits up to S seconds (default 120).\n",
    120, stop_run};
constexpr SimpleCommand kStatus = {
    "status", "--run-dir DIR",
    "Prints every role of the run (pid, alive, counters, restarts). Exit code 0 when\n"
    "the run is running, 3 when it is not.\n",
    0, show_status};
constexpr SimpleCommand kRestartLearner = {
    "restart-learner", "--run-dir DIR [--timeout S]",
    "Restarts the learner alone: it writes a checkpoint, exits, and a new learner\n"
    "resumes from that checkpoint while the actors keep playing. Waits up to S\n"
    "seconds (default 120) for the new learner to be running.\n",
    120, restart_learner};

int run_simple(int argc, char** argv, const SimpleCommand& command) {
  const std::optional<SimpleArgs> args = parse_simple(argc, argv, command);
  return args ? command.run(args->dir, args->timeout_s) : 0;
}

}  // namespace

int stop_command(int argc, char** argv) {
  return run_simple(argc, argv, kStop);
}

int status_command(int argc, char** argv) {
  return run_simple(argc, argv, kStatus);
}

int restart_learner_command(int argc, char** argv) {
  return run_simple(argc, argv, kRestartLearner);
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
  return rz::run_main("ringzero-launch", command);
}

}  // namespace rz::launch
