#include "launch/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/checkpoint_file.h"
#include "common/durable_file.h"
#include "common/game.h"
#include "launch/child_process.h"
#include "launch/command_support.h"
#include "launch/log_stamp.h"
#include "launch/process_liveness.h"
#include "launch/restart_policy.h"
#include "launch/run_segment.h"
#include "launch/run_snapshot.h"
#include "launch/run_summary.h"
#include "launch/scale_setup.h"
#include "launch/segment_sizes.h"
#include "launch/stats_snapshot.h"
#include "shm/segment.h"
#include "shm/stats.h"
#include "shm/trajectory_ring.h"

namespace rz::launch {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTick = std::chrono::milliseconds(200);
constexpr auto kActorStopTimeout = std::chrono::seconds(10);
// After the last child is reaped, how long to wait for its pipe to reach EOF (a grandchild
// could hold the write end; we never wait on one forever).
constexpr auto kDrainTimeout = std::chrono::seconds(2);
// How often a stop starts the relay again to empty the lanes (a relay that dies each time has
// a cause a restart does not fix; its records then go with the segment, and the log says so).
constexpr uint32_t kMaxDrainStarts = 3;
// How often the stats table is saved to RUN/stats.snapshot while the run goes on: what a
// SIGKILLed supervisor can lose of the counters when its segment is gone too.
constexpr auto kStatsSnapshotEvery = std::chrono::seconds(10);

// "SIGKILL" for the signals a supervisor meets; the number for the rest. (sigabbrev_np
// would do, but needs glibc 2.32.)
std::string signal_name(int sig) {
  switch (sig) {
    case SIGHUP:
      return "SIGHUP";
    case SIGINT:
      return "SIGINT";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGILL:
      return "SIGILL";
    case SIGABRT:
      return "SIGABRT";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGKILL:
      return "SIGKILL";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGSEGV:
      return "SIGSEGV";
    case SIGPIPE:
      return "SIGPIPE";
    case SIGTERM:
      return "SIGTERM";
    default:
      return fmt::format("signal {}", sig);
  }
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return fmt::format("killed by signal {} ({}){}", sig, signal_name(sig),
                       WCOREDUMP(status) ? ", core dumped" : "");
  }
  return fmt::format("ended with wait status {}", status);
}

// What a child said last, without the "ringzero-learner: " its error lines start with: the
// cause, for a one-line error that names it.
std::string last_words(const LogPump& pump) {
  std::string line = pump.last_line();
  if (line.rfind("ringzero-", 0) == 0) {
    const auto colon = line.find(": ");
    if (colon != std::string::npos && line.find(' ') > colon) line = line.substr(colon + 2);
  }
  constexpr size_t kMax = 400;  // a runaway line must not become the whole message
  if (line.size() > kMax) line = line.substr(0, kMax) + "...";
  return line;
}

// One supervised role: an actor lane, the learner or the evaluator, across all its
// incarnations.
struct Child {
  std::string role;  // "actor-3", "learner", "eval"
  bool is_learner = false;
  bool is_evaluator = false;
  uint32_t slot = 0;  // actor lane / stats index (0 for the learner and the evaluator)
  pid_t pid = 0;      // 0 = not running
  LogPump pump;       // output of the current (or last) incarnation
  RestartPolicy policy;
  uint32_t restarts = 0;
  std::string state = "starting";
  std::string note;
  bool restart_scheduled = false;
  Clock::time_point restart_at{};
  bool restart_after_exit = false;           // requested learner restart in progress
  std::optional<Clock::time_point> kill_at;  // SIGKILL if still alive then
  Clock::time_point started_at{};
  // Scale-out roles (redis, ingest, relay; docs/scale-out.md): a fixed command line and the
  // stats role that reports them running (kNone: up once spawned, as redis-server has none).
  std::vector<std::string> fixed_argv;
  shm::Role stats_role = shm::Role::kNone;
  // The relay: a stop is not over while the lanes hold records it has not sent, so a stop
  // that finds it dead (killed, backing off, given up) or sees it die starts it again
  // (drain_wanted) to send them (it drains on its own stop word; actor/relay.h).
  bool drains_lanes = false;
  bool drain_wanted = false;
  uint32_t drain_starts = 0;  // during this stop; bounded by kMaxDrainStarts
};

class Supervisor {
 public:
  explicit Supervisor(const SupervisorOptions& options)
      : options_(options), dir_(options.run_dir) {}
  // The story of supervisor.h, one call per step; returns the exit status.
  int run();

 private:
  // The steps of run(), in order. Each that can fail says why (log and ready_fd) itself and
  // returns false; the run then ends with exit status 1.

  // Blocks the handled signals and routes them to signal_fd_; ignores SIGPIPE.
  void route_signals();
  // Creates the run directory's layout and opens RUN/logs/launch.log.
  void open_log();
  // generation_: 1 for a fresh run, +1 at every start of an existing one.
  bool next_generation();
  // earlier_stats_: the counters of the run's earlier generations (saved_stats below).
  void read_saved_counters();
  // The run token on disk, then the segment, stamped with the generation and our pid.
  bool create_segment();
  // Run files, counters, own stats slot, then every child spawned; on failure, nothing left.
  bool start_roles();
  // The poll loop: output, signals, reaping, timers; returns once stopped and drained.
  void watch();
  // Final counters and summary, segment and pid file removed; returns the exit status.
  int finish();

  // Parts of start_roles.
  void write_run_files();
  void seed_counters();
  void plan_children();
  void add_scale_children();
  void wait_for_previous_redis();
  void abandon_start(const std::string& why);

  // What watch() does.
  void log(const std::string& text);
  void tell_ready(const std::string& line);
  std::vector<std::string> role_command(const std::string& binary) const;
  void spawn(Child& child);
  void on_exit(Child& child, int status);
  void reap();
  void handle_signals();
  void request_learner_restart(const std::string& why);
  void begin_stop(const std::string& why);
  void start_drains();
  bool lanes_need_drain() const;
  void on_tick();
  bool every_role_up() const;
  bool stopped_and_drained();
  void save_roles();
  void save_stats();
  Child* learner() {
    for (Child& c : children_)
      if (c.is_learner) return &c;
    return nullptr;
  }

  SupervisorOptions options_;
  RunDir dir_;
  int log_fd_ = -1;
  int signal_fd_ = -1;
  // What the start-up steps find out, in their order.
  uint64_t generation_ = 1;
  std::unique_ptr<Game> game_;  // the run's game: sizes the segment
  std::vector<shm::SlotSnapshot> earlier_stats_;
  std::string earlier_stats_origin_;  // where they were read from, for the log
  std::unique_ptr<shm::Segment> segment_;
  std::unique_ptr<shm::StatsWriter> stats_;
  std::vector<Child> children_;  // actors 0..N-1, the learner, then the evaluator if enabled
  uint32_t restart_requests_seen_ = 0;
  bool stopping_ = false;
  bool hard_stop_ = false;  // a second stop request: SIGKILL all, no drain
  bool ready_told_ = false;
  // Why the run ended on its own (a role failed during start-up); "" after a requested stop.
  std::string failure_;
  std::optional<Clock::time_point> all_reaped_at_;
  Clock::time_point stats_saved_at_{};
};

void Supervisor::log(const std::string& text) {
  const std::string line = stamp_line("launch", text);
  append_to_fd(log_fd_, line);
  if (options_.echo_log_to_stderr) append_to_fd(STDERR_FILENO, line);
}

void Supervisor::tell_ready(const std::string& line) {
  if (options_.ready_fd < 0) return;
  append_to_fd(options_.ready_fd, line + "\n");
  ::close(options_.ready_fd);
  options_.ready_fd = -1;
}

void Supervisor::save_roles() {
  std::vector<RoleRecord> records;
  for (const Child& c : children_) records.push_back({c.role, c.pid, c.restarts, c.state, c.note});
  try {
    write_role_records(dir_, records);
  } catch (const std::exception& e) {
    log(fmt::format("warning: {}", e.what()));
  }
}

void Supervisor::save_stats() {
  try {
    save_stats_snapshot(*segment_, dir_.stats_snapshot_file());
  } catch (const std::exception& e) {
    log(fmt::format("warning: cannot save the counters: {}", e.what()));
  }
  stats_saved_at_ = Clock::now();
}

// Counters are cumulative over the run: the new segment's table starts from the freshest
// saved one (see stats_snapshot.h). Called before the segment is created (the one a killed
// supervisor left is read before it is reclaimed) and returns the slots to seed.
std::vector<shm::SlotSnapshot> saved_stats(const RunDir& dir, const std::string& shm_name,
                                           std::string* origin) {
  if (!shm::Segment::creator_alive(shm_name)) {
    try {
      const auto left = shm::Segment::open(shm_name, /*read_only=*/true);
      if (run_info_value(left->run_info(), "run_dir") == dir.path()) {
        *origin = fmt::format("the segment {} left by the killed supervisor", shm_name);
        return shm::read_stats(*left);
      }
    } catch (const std::exception&) {
      // None left behind (the usual case), or unusable: the file is next.
    }
  }
  *origin = dir.stats_snapshot_file();
  return load_stats_snapshot(dir.stats_snapshot_file());
}

// `binary --shm SEGMENT --run-dir RUN --config RUN/config.ini`: the start of every command
// line but an actor's.
std::vector<std::string> Supervisor::role_command(const std::string& binary) const {
  return {binary,      "--shm",    segment_->name(),  "--run-dir",
          dir_.path(), "--config", dir_.config_file()};
}

void Supervisor::spawn(Child& child) {
  std::vector<std::string> argv;
  if (!child.fixed_argv.empty()) {
    argv = child.fixed_argv;
  } else if (child.is_learner) {
    argv = role_command(options_.learner_binary);
    // Resume whenever the run has a checkpoint: after a restart, a crash or `start --resume`.
    if (!list_checkpoints(dir_.path()).empty()) argv.push_back("--resume");
  } else if (child.is_evaluator) {
    argv = role_command(options_.eval_binary);
    argv.insert(argv.begin() + 1, "live");
  } else {
    argv = {options_.actor_binary,      "--shm",    segment_->name(),  "--slot",
            std::to_string(child.slot), "--config", dir_.config_file()};
  }
  SpawnedChild spawned;
  try {
    spawned = spawn_child(argv);
  } catch (const std::exception& e) {
    // fork failing is a machine-level problem; treat it like a crash so the backoff applies.
    log(fmt::format("cannot start {}: {}", child.role, e.what()));
    child.pid = 0;
    on_exit(child, W_EXITCODE(127, 0));
    return;
  }
  child.pid = spawned.pid;
  child.pump = LogPump(child.role, spawned.output_fd, dir_.log_file(child.role));
  child.started_at = Clock::now();
  child.policy.started(child.started_at);
  child.restart_scheduled = false;
  child.kill_at.reset();
  child.state = "running";
  child.note.clear();
  std::string command;
  for (const std::string& a : argv) command += (command.empty() ? "" : " ") + a;
  log(fmt::format("spawned {} pid {}: {}", child.role, child.pid, command));
  try {
    write_text_atomically(dir_.pid_file(child.role), fmt::format("{}\n", child.pid));
  } catch (const std::exception& e) {
    log(fmt::format("warning: {}", e.what()));
  }
  if (child.is_learner) {
    segment_->control().learner_pid.store(static_cast<uint32_t>(child.pid),
                                          std::memory_order_relaxed);
  }
  save_roles();
}

void Supervisor::on_exit(Child& child, int status) {
  const pid_t pid = child.pid;
  child.pid = 0;
  child.kill_at.reset();
  ::unlink(dir_.pid_file(child.role).c_str());
  if (pid > 0) log(fmt::format("{} pid {} {}", child.role, pid, describe_status(status)));
  // Fail fast: a role that dies before every role has reported ready has a cause restarting
  // cannot fix (a config or checkpoint that does not fit, a missing library, a full segment).
  // Retrying it for a minute would only hide the cause behind "keeps dying": stop the whole
  // run and say what the child said last.
  if (!stopping_ && !ready_told_ && !child.restart_after_exit) {
    const std::string said = last_words(child.pump);
    failure_ = fmt::format("{} {} during start-up{}{} (see {})", child.role,
                           pid > 0 ? describe_status(status) : "could not be started",
                           said.empty() ? "" : ": ", said, dir_.log_file(child.role));
    child.state = "failed";
    child.note = said.empty() ? describe_status(status) : said;
    log(failure_);
    save_roles();
    tell_ready("error: " + failure_);
    begin_stop(fmt::format("{} failed during start-up", child.role));
    child.state = "failed";
    save_roles();
    return;
  }
  // A process that set the stop flag (a fatal error) makes its peers exit too: that is the
  // end of the run, not a crash to restart.
  if (!stopping_ && segment_->control().stop_requested()) {
    begin_stop("stop flag set in the control block");
  }
  if (stopping_) {
    child.state = "stopped";
    // Killed (or failed) while the stop waited for it to send the lanes' records: again.
    if (child.drains_lanes && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
      child.drain_wanted = true;
    save_roles();
    return;
  }
  const auto now = Clock::now();
  if (child.restart_after_exit) {  // a requested learner restart: no backoff, not a crash
    child.restart_after_exit = false;
    child.restarts++;
    spawn(child);
    segment_->control().learner_restarts_done.store(restart_requests_seen_,
                                                    std::memory_order_release);
    log(fmt::format("learner restarted on request (restart #{})", child.restarts));
    return;
  }
  if (!child.policy.died(now)) {
    child.state = "gave-up";
    child.note = child.policy.reason();
    const std::string last = last_words(child.pump);
    if (!last.empty()) child.note += ": " + last;
    log(fmt::format(
        "giving up on {}: {}{}{}, it keeps dying (see {}); fix the cause, then {}", child.role,
        child.policy.reason(), last.empty() ? "" : "; it said last: ", last,
        dir_.log_file(child.role),
        child.is_learner
            ? "run `launch/launch.sh restart-learner --run-dir " + shell_quote(dir_.path()) + "`"
        : child.is_evaluator ? "stop and start the run again with --resume (--eval.enabled false "
                               "runs it without an evaluator)"
                             : "stop and start the run again with --resume"));
    save_roles();  // before telling anyone: a `status` right after must see it
    const std::string said = last_words(child.pump);
    tell_ready(fmt::format("error: {} keeps dying ({}){}{} (see {})", child.role,
                           child.policy.reason(), said.empty() ? "" : ": ", said,
                           dir_.log_file(child.role)));
  } else {
    child.state = "backoff";
    child.restart_scheduled = true;
    child.restart_at = child.policy.next_start();
    log(fmt::format("restarting {} in {} ms", child.role, child.policy.current_backoff().count()));
  }
  save_roles();
}

void Supervisor::reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (Child& c : children_) {
      if (c.pid == pid) {
        c.pump.pump();  // take what it printed last before we log its death
        on_exit(c, status);
        break;
      }
    }
  }
}

void Supervisor::request_learner_restart(const std::string& why) {
  if (stopping_) return;
  if (!learner()) {
    log(fmt::format("no learner on this host ({}): restart it on the learner host", why));
    return;
  }
  Child& l = *learner();
  if (l.pid > 0) {
    if (l.restart_after_exit) return;  // already on its way
    l.restart_after_exit = true;
    l.state = "restarting";
    l.kill_at = Clock::now() + std::chrono::seconds(options_.config.launch.learner_stop_timeout_s);
    log(fmt::format("restarting the learner ({}): SIGTERM to pid {}, SIGKILL after {} s", why,
                    l.pid, options_.config.launch.learner_stop_timeout_s));
    ::kill(l.pid, SIGTERM);
    save_roles();
  } else {
    // Not running (backing off or given up): a human asked, so forget the crash history.
    l.policy.reset();
    l.restarts++;
    log(fmt::format("starting the learner on request ({})", why));
    spawn(l);
    segment_->control().learner_restarts_done.store(restart_requests_seen_,
                                                    std::memory_order_release);
  }
}

void Supervisor::begin_stop(const std::string& why) {
  if (stopping_) {
    log("second stop request: killing every child now (SIGKILL)");
    hard_stop_ = true;
    for (Child& c : children_) {
      c.drain_wanted = false;
      if (c.pid > 0) ::kill(c.pid, SIGKILL);
    }
    return;
  }
  stopping_ = true;
  log(fmt::format("stopping the run ({}): stop flag set, SIGTERM to every process", why));
  segment_->control().request_stop();
  if (stats_) stats_->set_state(shm::ProcessState::kStopping);
  const auto now = Clock::now();
  for (Child& c : children_) {
    c.restart_scheduled = false;
    c.restart_after_exit = false;
    if (c.pid > 0) {
      c.state = "stopping";
      c.kill_at =
          now + (c.is_learner ? std::chrono::seconds(options_.config.launch.learner_stop_timeout_s)
                              : kActorStopTimeout);
      ::kill(c.pid, SIGTERM);
    } else {
      c.state = "stopped";
      c.drain_wanted = c.drains_lanes;  // killed or backing off when the stop came
    }
  }
  save_roles();
  tell_ready("error: the run was stopped before every role was up; see " + dir_.log_file("launch"));
  start_drains();
}

// During a stop: the relay again, where one is wanted and the lanes still need it. It sees
// the stop flag at once and exits when every actor is gone and every record is sent and
// acknowledged (or after its 8-s grace, saying how many it could not send).
void Supervisor::start_drains() {
  for (Child& c : children_) {
    if (!c.drain_wanted || c.pid > 0) continue;
    c.drain_wanted = false;
    if (hard_stop_ || !lanes_need_drain()) continue;
    if (c.drain_starts >= kMaxDrainStarts) {
      log(fmt::format("{} died {} times while draining the lanes: their unsent records go with "
                      "the segment (see {})",
                      c.role, c.drain_starts, dir_.log_file(c.role)));
      continue;
    }
    c.drain_starts++;
    log(fmt::format("starting {} to send what the lanes still hold before the stop ends", c.role));
    spawn(c);
    if (c.pid > 0) c.kill_at = Clock::now() + kActorStopTimeout;
    all_reaped_at_.reset();
    save_roles();
  }
}

// An actor still alive (it may commit more) or a record committed and not yet released.
bool Supervisor::lanes_need_drain() const {
  for (const shm::LaneStatus& l : shm::lane_status(*segment_))
    if (l.owner_alive || l.records_committed != l.records_consumed) return true;
  return false;
}

void Supervisor::handle_signals() {
  signalfd_siginfo info;
  for (;;) {
    const ssize_t n = ::read(signal_fd_, &info, sizeof info);
    if (n != static_cast<ssize_t>(sizeof info)) return;
    switch (info.ssi_signo) {
      case SIGCHLD:
        break;  // reaped below in any case
      case SIGINT:
      case SIGTERM:
      case SIGHUP:
        begin_stop(fmt::format("{} from pid {}", signal_name(static_cast<int>(info.ssi_signo)),
                               info.ssi_pid));
        break;
      case SIGUSR1:
        request_learner_restart(fmt::format("SIGUSR1 from pid {}", info.ssi_pid));
        break;
    }
  }
}

bool Supervisor::every_role_up() const {
  const std::vector<shm::SlotSnapshot> slots = shm::read_stats(*segment_);
  for (const Child& c : children_) {
    if (c.pid <= 0) return false;
    if (!c.fixed_argv.empty() && c.stats_role == shm::Role::kNone) continue;
    const shm::Role role = !c.fixed_argv.empty() ? c.stats_role
                           : c.is_learner        ? shm::Role::kLearner
                           : c.is_evaluator      ? shm::Role::kEvaluator
                                                 : shm::Role::kActor;
    const uint32_t index = c.slot;
    bool up = false;
    for (const shm::SlotSnapshot& s : slots) {
      if (s.role == role && s.index == index && s.pid == static_cast<uint32_t>(c.pid) &&
          s.state == shm::ProcessState::kRunning) {
        up = true;
      }
    }
    if (!up) return false;
  }
  return true;
}

void Supervisor::on_tick() {
  const auto now = Clock::now();
  if (stats_) stats_->heartbeat();
  if (!stopping_) {
    const uint32_t requested =
        segment_->control().learner_restart_requested.load(std::memory_order_acquire);
    if (requested != restart_requests_seen_) {
      restart_requests_seen_ = requested;
      request_learner_restart("restart-learner request");
    }
    if (segment_->control().stop_requested()) begin_stop("stop flag set in the control block");
  }
  for (Child& c : children_) {
    if (c.pid > 0 && c.kill_at && now >= *c.kill_at) {
      log(fmt::format("{} pid {} did not exit in time after SIGTERM: SIGKILL", c.role, c.pid));
      ::kill(c.pid, SIGKILL);
      c.kill_at.reset();
    }
    if (!stopping_ && c.pid == 0 && c.restart_scheduled && now >= c.restart_at) {
      c.restarts++;
      spawn(c);
    }
  }
  if (stopping_) start_drains();
  if (!stopping_ && now - stats_saved_at_ >= kStatsSnapshotEvery) save_stats();
  if (!ready_told_ && !stopping_ && every_role_up()) {
    ready_told_ = true;
    log(fmt::format("every role is up: {} actor{}, {}{}", options_.actors,
                    options_.actors == 1 ? "" : "s", learner() ? "the learner" : "the relay",
                    learner() && options_.config.eval.enabled ? " and the evaluator" : ""));
    tell_ready("ready " + dir_.path());
  }
}

// Learner host (--serve): redis-server first (the ingest connects to it), then the ingest on
// the lane after the actors'. Actor host (join): the relay. docs/scale-out.md.
void Supervisor::add_scale_children() {
  const RunConfig& config = options_.config;
  if (!config.scale.serve.empty()) {
    wait_for_previous_redis();
    Child redis;
    redis.role = "redis";
    redis.fixed_argv = {redis_server_binary(),
                        write_redis_config(config, dir_, segment_->sizes().weight_bytes)};
    children_.insert(children_.begin(), std::move(redis));
    Child ingest;
    ingest.role = "ingest";
    ingest.stats_role = shm::Role::kIngest;
    ingest.fixed_argv =
        role_command(child_binary("RZ_INGEST_BINARY", "../learner/ringzero-ingest"));
    ingest.fixed_argv.push_back("--lane");
    ingest.fixed_argv.push_back(std::to_string(options_.actors));
    children_.push_back(std::move(ingest));
  }
  if (!config.scale.learner.empty()) {
    Child relay;
    relay.role = "relay";
    relay.stats_role = shm::Role::kRelay;
    relay.drains_lanes = true;
    relay.fixed_argv = role_command(child_binary("RZ_RELAY_BINARY", "../actor/ringzero-relay"));
    children_.push_back(std::move(relay));
  }
}

// A learner host resumed right after its supervisor was SIGKILLed: the previous
// redis-server got SIGTERM from the kernel and may still be writing its AOF, holding the
// port the new one must bind. Its pid (pids/redis.pid, not yet overwritten) is waited for,
// bounded; a pid reused by some other program is not mistaken for it (the name is checked).
void Supervisor::wait_for_previous_redis() {
  const pid_t old = read_pid_file(dir_.pid_file("redis"));
  if (old <= 0 || !process_alive(old, "redis-server")) return;
  constexpr auto kWait = std::chrono::seconds(30);
  log(
      fmt::format("waiting up to {} s for the previous redis-server (pid {}) to exit: it still "
                  "holds the port",
                  kWait.count(), old));
  const auto until = Clock::now() + kWait;
  while (process_alive(old, "redis-server")) {
    if (Clock::now() > until)
      throw std::runtime_error(fmt::format(
          "the previous redis-server of this run (pid {}) still runs after {} s: stop it "
          "(kill {}), then start --resume again",
          old, kWait.count(), old));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int Supervisor::run() {
  route_signals();
  open_log();
  if (!next_generation()) return 1;
  game_ = make_game(options_.config.game);
  read_saved_counters();
  if (!create_segment() || !start_roles()) return 1;
  watch();
  return finish();
}

void Supervisor::route_signals() {
  // The signals we handle arrive through the signalfd; they must be blocked first.
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGUSR1}) sigaddset(&handled, sig);
  ::sigprocmask(SIG_BLOCK, &handled, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // a vanished terminal must not kill the supervisor
  signal_fd_ = ::signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
}

void Supervisor::open_log() {
  dir_.create_layout();
  log_fd_ = open_for_append(dir_.log_file("launch"));
}

bool Supervisor::next_generation() {
  try {
    generation_ = read_generation(dir_) + 1;
  } catch (const std::exception& e) {
    log(e.what());
    tell_ready(std::string("error: ") + e.what());
    return false;
  }
  return true;
}

void Supervisor::read_saved_counters() {
  try {
    earlier_stats_ = saved_stats(dir_, options_.config.shm.name, &earlier_stats_origin_);
  } catch (const std::exception& e) {
    log(fmt::format("warning: ignoring the saved counters ({}); they start from zero", e.what()));
  }
}

bool Supervisor::create_segment() {
  const std::string& shm_name = options_.config.shm.name;
  try {
    // A learner host (--serve) has one more lane after the actors': the ingest's.
    const bool serving = !options_.config.scale.serve.empty();
    const shm::SegmentSizes sizes =
        segment_sizes_for(options_.config, *game_, options_.actors + (serving ? 1 : 0));
    std::string run_info = fmt::format("game={}\nrun_dir={}\ngeneration={}\n", game_->spec(),
                                       dir_.path(), generation_);
    if (serving) run_info += fmt::format("ingest_lane={}\n", options_.actors);
    refuse_other_runs_segment(dir_, shm_name);
    // The token is on disk before the segment exists: a segment of ours always has its
    // token in RUN (stop removes only such a segment).
    const uint64_t token = shm::Segment::new_run_token();
    write_run_token(dir_, token);
    segment_ = shm::Segment::create(shm_name, sizes, run_info, token);
  } catch (const std::exception& e) {
    const std::string message = fmt::format("cannot create the run's shared memory: {}", e.what());
    log(message);
    tell_ready("error: " + message);
    return false;
  }
  segment_->control().generation.store(generation_, std::memory_order_release);
  segment_->control().supervisor_pid.store(static_cast<uint32_t>(getpid()),
                                           std::memory_order_relaxed);
  return true;
}

bool Supervisor::start_roles() {
  // From here until every child is spawned, a failure (a file that cannot be written, a full
  // stats table) must not leak the segment: nothing runs yet, so it goes with us.
  try {
    write_run_files();
    seed_counters();
    stats_ = std::make_unique<shm::StatsWriter>(*segment_, shm::Role::kSupervisor, 0);
    stats_saved_at_ = Clock::now();
    stats_->set_state(shm::ProcessState::kRunning);
    log(fmt::format("run {} generation {}: game {}, {} actor{}{}, segment {} ({} MiB), pid {}",
                    dir_.path(), generation_, game_->spec(), options_.actors,
                    options_.actors == 1 ? "" : "s",
                    options_.config.eval.enabled ? ", evaluator on" : ", no evaluator",
                    segment_->name(), segment_->mapped_bytes() >> 20, getpid()));
    plan_children();
    // Actors first, then the learner: the order the founders' design asks for (nothing touches
    // a device before every actor exists), and the learner finds lanes already being filled.
    // The evaluator (CPU only, nice 10) comes last: it only reads the weight slot.
    for (Child& c : children_) spawn(c);
  } catch (const std::exception& e) {
    abandon_start(e.what());
    return false;
  }
  return true;
}

void Supervisor::write_run_files() {
  write_text_atomically(dir_.generation_file(), fmt::format("{}\n", generation_));
  write_text_atomically(dir_.shm_name_file(), segment_->name() + "\n");
  write_text_atomically(dir_.pid_file("launch"), fmt::format("{}\n", getpid()));
}

void Supervisor::seed_counters() {
  if (earlier_stats_.empty()) return;
  try {
    const int seeded = seed_stats(*segment_, earlier_stats_);
    log(fmt::format("counters of {} process{} carried over from {}", seeded,
                    seeded == 1 ? "" : "es", earlier_stats_origin_));
  } catch (const std::exception& e) {
    log(fmt::format("warning: cannot carry the counters over: {}", e.what()));
  }
}

// children_: the actors, the learner, the evaluator (or, on an actor host, the actors alone),
// then the scale-out roles; restart counts carry over from earlier generations of the run.
void Supervisor::plan_children() {
  const auto previous = read_role_records(dir_);
  RestartPolicy::Options policy;
  policy.initial_backoff = std::chrono::milliseconds(options_.config.launch.restart_backoff_ms);
  policy.crash_loop_limit = options_.config.launch.max_restarts;
  policy.crash_loop_window = std::chrono::seconds(options_.config.launch.restart_window_s);
  const size_t actors = static_cast<size_t>(options_.actors);
  // An actor host (launch.sh join) has no learner and no evaluator: its relay (below) takes
  // the ring's consumer role.
  const bool joining = !options_.config.scale.learner.empty();
  children_.resize(joining ? actors : actors + 1 + (options_.config.eval.enabled ? 1 : 0));
  for (size_t i = 0; i < children_.size(); ++i) {
    Child& c = children_[i];
    c.is_learner = i == actors;
    c.is_evaluator = i > actors;
    c.slot = i < actors ? static_cast<uint32_t>(i) : 0;
    c.role = c.is_learner ? "learner" : c.is_evaluator ? "eval" : fmt::format("actor-{}", i);
  }
  try {
    add_scale_children();
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("cannot set up scale-out: {}", e.what()));
  }
  for (Child& c : children_) {
    c.policy = RestartPolicy(policy);
    auto it = previous.find(c.role);
    if (it != previous.end()) c.restarts = it->second.restarts;
  }
}

// A failed start: whatever was spawned is killed and the segment goes with us.
void Supervisor::abandon_start(const std::string& why) {
  const std::string message = fmt::format("cannot start run {}: {}", dir_.path(), why);
  for (Child& c : children_)
    if (c.pid > 0) ::kill(c.pid, SIGKILL);
  const std::string name = segment_->name();
  stats_.reset();
  segment_.reset();
  shm::Segment::remove(name);
  log(message + "; segment " + name + " removed");
  tell_ready("error: " + message);
}

void Supervisor::watch() {
  while (true) {
    std::vector<pollfd> fds;
    fds.push_back({signal_fd_, POLLIN, 0});
    for (Child& c : children_) {
      if (c.pump.open()) fds.push_back({c.pump.fd(), POLLIN, 0});
    }
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(kTick.count()));
    if (n < 0 && errno != EINTR) {
      log(fmt::format("poll failed: {}", std::strerror(errno)));
      return;
    }
    for (Child& c : children_) c.pump.pump();
    handle_signals();
    reap();
    on_tick();
    if (stopped_and_drained()) return;
  }
}

// True once stopping, every child reaped and its pipe at EOF (or kDrainTimeout after the
// last was reaped).
bool Supervisor::stopped_and_drained() {
  if (!stopping_) return false;
  bool any_running = false, any_pipe = false;
  for (const Child& c : children_) {
    any_running |= c.pid > 0;
    any_pipe |= c.pump.open();
  }
  if (any_running) return false;
  if (!all_reaped_at_) all_reaped_at_ = Clock::now();
  return !any_pipe || Clock::now() - *all_reaped_at_ > kDrainTimeout;
}

int Supervisor::finish() {
  for (Child& c : children_) c.pump = LogPump();  // flush partial lines, close pipes
  save_stats();  // every process has exited: these are the run's final counters
  const std::string summary = run_summary_line(shm::read_stats(*segment_), dir_.path());
  stats_.reset();
  const std::string name = segment_->name();
  segment_.reset();
  shm::Segment::remove(name);
  ::unlink(dir_.pid_file("launch").c_str());
  const std::string resume_command =
      fmt::format("{} start --resume --run-dir {}", script(), shell_quote(dir_.path()));
  if (!failure_.empty()) {
    log(
        fmt::format("run stopped because a role failed during start-up; segment {} removed. "
                    "Fix the cause, then: {}",
                    name, resume_command));
    // The foreground user's last line is the cause (a detached start prints it itself).
    if (options_.echo_log_to_stderr) {
      append_to_fd(STDERR_FILENO, fmt::format("ringzero-launch: {}; the run is stopped, nothing "
                                              "is left running\n",
                                              failure_));
    }
    return 1;
  }
  log(summary);
  log(fmt::format("run stopped cleanly; segment {} removed. Continue it with: {}", name,
                  resume_command));
  return 0;
}

}  // namespace

int run_supervisor(const SupervisorOptions& options) {
  Supervisor supervisor(options);
  return supervisor.run();
}

}  // namespace rz::launch
