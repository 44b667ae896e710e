#include "launch/commands.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/config.h"
#include "launch/process_liveness.h"
#include "launch/run_dir.h"
#include "launch/run_snapshot.h"
#include "launch/supervisor.h"
#include "shm/segment.h"
#include "shm/stats.h"

namespace rz::launch {

namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;

constexpr auto kReadyTimeout = std::chrono::seconds(180);

// Thrown for bad input; main prints "ringzero-launch: <what>" and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// How hints refer to us: launch.sh sets RZ_LAUNCH_SCRIPT so users see the script they ran.
std::string script() {
  const char* s = std::getenv("RZ_LAUNCH_SCRIPT");
  return s && *s ? s : "ringzero-launch";
}

std::string self_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

// The child programs live beside us in the build tree (build/launch/../actor/...);
// RZ_ACTOR_BINARY / RZ_LEARNER_BINARY override that.
std::string child_binary(const char* env, const std::string& relative) {
  const char* override_path = std::getenv(env);
  std::string path = override_path && *override_path
                         ? std::string(override_path)
                         : (fs::path(self_dir()) / relative).lexically_normal().string();
  if (::access(path.c_str(), X_OK) != 0) {
    throw UsageError(fmt::format("{} is missing or not executable; build it with launch/setup.sh "
                                 "(or set {})", path, env));
  }
  return path;
}

bool supervisor_alive(const RunDir& dir, pid_t* pid) {
  *pid = read_pid_file(dir.pid_file("launch"));
  return process_alive(*pid, "ringzero-launch");
}

std::string shm_name_of(const RunDir& dir) {
  const std::string name = read_shm_name(dir);
  if (name.empty()) {
    throw UsageError(fmt::format("no run in {} ({} is missing); start one with: {} start --run-dir {}",
                                 dir.path(), dir.shm_name_file(), script(), dir.path()));
  }
  return name;
}

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
        throw UsageError(fmt::format("--timeout must be a positive number of seconds, not '{}'", v));
      }
    } else {
      throw UsageError(fmt::format("{}: unknown argument '{}' (see {} {} --help)", command, argv[i],
                                   script(), command));
    }
  }
  if (!args.help && args.run_dir.empty()) {
    throw UsageError(fmt::format("{} needs --run-dir DIR (the directory `start` printed)", command));
  }
  return args;
}

bool wait_until(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

void print_next_steps(const RunDir& dir, std::FILE* out) {
  fmt::print(out,
             "  watch:   {0} monitor --run-dir {1}\n"
             "  status:  {0} status --run-dir {1}\n"
             "  restart the learner from its checkpoint: {0} restart-learner --run-dir {1}\n"
             "  stop:    {0} stop --run-dir {1}\n"
             "  logs:    {1}/logs/\n",
             script(), dir.path());
}

// launch.sh sets RZ_LATEST_LINK (runs/latest) for runs in its default place: point it at
// this run, atomically (a new link renamed over the old one).
void point_latest_link(const RunDir& dir) {
  const char* link = std::getenv("RZ_LATEST_LINK");
  if (!link || !*link) return;
  const fs::path target = fs::path(dir.path()).filename();
  const std::string tmp = fmt::format("{}.tmp.{}", link, getpid());
  std::error_code ec;
  fs::create_symlink(target, tmp, ec);
  if (!ec) fs::rename(tmp, link, ec);
  if (ec) fs::remove(tmp, ec);
}

// Fork a session leader that runs the supervisor; return once it reports every role up.
int start_detached(const SupervisorOptions& options, const RunDir& dir) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("cannot create a pipe");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("cannot fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::close(fds[0]);
    ::setsid();
    const int null_fd = ::open("/dev/null", O_RDWR);
    const int log_fd = ::open(dir.log_file("launch").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd >= 0 ? log_fd : null_fd, STDOUT_FILENO);
    ::dup2(log_fd >= 0 ? log_fd : null_fd, STDERR_FILENO);
    SupervisorOptions daemon = options;
    daemon.echo_log_to_stderr = false;
    daemon.ready_fd = fds[1];
    int code = 1;
    try {
      code = run_supervisor(daemon);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ringzero-launch: %s\n", e.what());
    }
    std::fflush(nullptr);
    _exit(code);
  }
  ::close(fds[1]);
  std::string reply;
  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  while (reply.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buffer[512];
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n <= 0) break;  // the supervisor exited without a word
    reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  while (!reply.empty() && std::isspace(static_cast<unsigned char>(reply.back()))) reply.pop_back();
  if (reply.rfind("ready ", 0) == 0) {
    std::printf("%s\n", dir.path().c_str());
    std::fflush(stdout);  // the run directory first, for scripts and humans alike
    fmt::print(stderr, "ringzero: run is up in the background (supervisor pid {}, {} actor{} + learner)\n",
               pid, options.actors, options.actors == 1 ? "" : "s");
    print_next_steps(dir, stderr);
    return 0;
  }
  if (reply.rfind("error: ", 0) == 0) {
    fmt::print(stderr, "ringzero-launch: {} (logs in {}/logs/)\n", reply.substr(7), dir.path());
  } else if (reply.empty() && !process_alive(pid)) {
    fmt::print(stderr, "ringzero-launch: the supervisor exited before the run was up; see {}\n",
               dir.log_file("launch"));
  } else {
    fmt::print(stderr,
               "ringzero-launch: not every role came up within {} s; see {}/logs/ (the run is "
               "still supervised: stop it with {} stop --run-dir {})\n",
               kReadyTimeout.count(), dir.path(), script(), dir.path());
  }
  return 1;
}

}  // namespace

int start_command(int argc, char** argv) {
  // Peek at --run-dir / --resume / --config: resuming reads the run's own config.ini.
  std::string run_dir;
  bool resume = false, has_config = false;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--run-dir" && i + 1 < argc) run_dir = argv[i + 1];
    if (a.rfind("--run-dir=", 0) == 0) run_dir = a.substr(10);
    if (a == "--resume") resume = true;
    if (a == "--config" || a.rfind("--config=", 0) == 0) has_config = true;
  }
  std::vector<const char*> args = {"ringzero-launch start"};
  for (int i = 0; i < argc; ++i) args.push_back(argv[i]);
  if (run_dir.empty()) {
    if (resume) throw UsageError("start --resume needs --run-dir DIR (the run to continue)");
    std::time_t now = std::time(nullptr);
    std::tm parts{};
    gmtime_r(&now, &parts);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "runs/%Y%m%d-%H%M%S", &parts);
    run_dir = stamp;
    args.push_back("--run-dir");
    args.push_back(stamp);
  }
  RunDir dir(run_dir);
  const std::string config_file = dir.config_file();
  if (resume && !has_config) {
    args.push_back("--config");
    args.push_back(config_file.c_str());
  }

  RoleOptions role("launch",
                   "ringzero-launch start [--game tictactoe|connect4|dotsandboxes] [--actors N] "
                   "[--run-dir DIR] [--config FILE] [--resume] [--detach] [--<option> VALUE ...]");
  role.flags.add_options()
      ("actors", po::value<int>(), "actor processes (default: launch.actors, 0 = cores - 1)")
      ("resume", po::bool_switch(), "continue the stopped run in --run-dir from its checkpoint")
      ("detach", po::bool_switch(), "run in the background; return once every role is up");
  po::variables_map flags;
  RunConfig config = parse_config_or_exit(static_cast<int>(args.size()),
                                          const_cast<char**>(args.data()), role, &flags);
  const bool detach = flags["detach"].as<bool>();

  pid_t pid = 0;
  if (supervisor_alive(dir, &pid)) {
    throw UsageError(fmt::format("run {} is already running (supervisor pid {}); watch it with {} "
                                 "monitor --run-dir {} or stop it with {} stop --run-dir {}",
                                 dir.path(), pid, script(), dir.path(), script(), dir.path()));
  }
  const bool has_run = fs::exists(config_file);
  if (!resume && has_run) {
    throw UsageError(fmt::format("{} already holds a run; continue it with --resume or choose "
                                 "another --run-dir", dir.path()));
  }
  if (resume && !has_run) {
    throw UsageError(fmt::format("nothing to resume in {} ({} is missing); start a new run "
                                 "without --resume", dir.path(), config_file));
  }
  if (resume) {
    // A checkpoint fits one game and one network shape: refuse to resume into another.
    const RunConfig before = load_config_file(config_file);
    if (before.game != config.game || before.net != config.net) {
      throw UsageError(fmt::format(
          "run {} trains {} with a {} network; --resume cannot change the game or the network "
          "(start a new run in another --run-dir instead)",
          dir.path(), before.game, before.net.shape_string()));
    }
  }
  if (flags.count("actors")) {
    const int n = flags["actors"].as<int>();
    if (n < 1 || n > 256) {
      throw UsageError(fmt::format("--actors must be between 1 and 256, not {}", n));
    }
    config.launch.actors = n;
  }
  config.run_dir = dir.path();
  if (config.shm.name.empty()) config.shm.name = default_shm_name(dir.path());
  resolve_random_seed(&config);
  validate(config);

  SupervisorOptions options;
  options.actors = effective_actor_count(config);
  options.run_dir = dir.path();
  options.actor_binary = child_binary("RZ_ACTOR_BINARY", "../actor/ringzero-actor");
  options.learner_binary = child_binary("RZ_LEARNER_BINARY", "../learner/ringzero-learner");
  dir.create_layout();
  write_config_atomically(config, config_file);
  options.config = config;
  point_latest_link(dir);

  if (detach) return start_detached(options, dir);
  fmt::print(stderr, "ringzero: {} {} with {} actor{} + learner in {} (Ctrl-C stops it cleanly)\n",
             resume ? "resuming" : "training", config.game, options.actors,
             options.actors == 1 ? "" : "s", dir.path());
  print_next_steps(dir, stderr);
  return run_supervisor(options);
}

int stop_command(int argc, char** argv) {
  const SimpleArgs args = parse_simple(argc, argv, "stop", 120);
  if (args.help) {
    std::printf("usage: %s stop --run-dir DIR [--timeout S]\n"
                "Stops a run cleanly: the learner writes a final checkpoint, every process exits,\n"
                "the shared memory is removed. Waits up to S seconds (default 120).\n",
                script().c_str());
    return 0;
  }
  const RunDir dir(args.run_dir);
  pid_t pid = 0;
  if (!supervisor_alive(dir, &pid)) {
    const std::string name = shm_name_of(dir);
    if (!shm::Segment::creator_alive(name) && shm::Segment::remove(name)) {
      std::printf("ringzero: removed the shared memory %s left by a killed supervisor\n", name.c_str());
    }
    std::printf("ringzero: run %s is not running\n", dir.path().c_str());
    return 0;
  }
  std::printf("ringzero: stopping run %s (supervisor pid %d); the learner writes a final checkpoint\n",
              dir.path().c_str(), pid);
  std::fflush(stdout);
  ::kill(pid, SIGTERM);
  if (!wait_until([&] { return !process_alive(pid, "ringzero-launch"); },
                  std::chrono::seconds(args.timeout_s))) {
    fmt::print(stderr, "ringzero-launch: the run did not stop within {} s; see {} (a second stop "
                       "kills every process)\n", args.timeout_s, dir.log_file("launch"));
    return 1;
  }
  std::printf("ringzero: run %s stopped; continue it with: %s start --resume --run-dir %s\n",
              dir.path().c_str(), script().c_str(), dir.path().c_str());
  return 0;
}

int status_command(int argc, char** argv) {
  const SimpleArgs args = parse_simple(argc, argv, "status", 0);
  if (args.help) {
    std::printf("usage: %s status --run-dir DIR\n"
                "Prints every role of the run (pid, alive, counters, restarts). Exit code 0 when\n"
                "the run is running, 3 when it is not.\n", script().c_str());
    return 0;
  }
  const RunDir dir(args.run_dir);
  const std::string name = shm_name_of(dir);
  pid_t pid = 0;
  if (!supervisor_alive(dir, &pid) || !shm::Segment::creator_alive(name)) {
    std::printf("ringzero: run %s is not running; continue it with: %s start --resume --run-dir %s\n",
                dir.path().c_str(), script().c_str(), dir.path().c_str());
    for (const auto& [role, r] : read_role_records(dir)) {
      std::printf("  %-9s %s, %u restart%s%s%s\n", role.c_str(), r.state.c_str(), r.restarts,
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
    std::printf("usage: %s restart-learner --run-dir DIR [--timeout S]\n"
                "Restarts the learner alone: it writes a checkpoint, exits, and a new learner\n"
                "resumes from that checkpoint while the actors keep playing. Waits up to S\n"
                "seconds (default 120) for the new learner to be running.\n", script().c_str());
    return 0;
  }
  const RunDir dir(args.run_dir);
  pid_t pid = 0;
  if (!supervisor_alive(dir, &pid)) {
    throw UsageError(fmt::format("run {} is not running; start it with {} start --resume --run-dir {}",
                                 dir.path(), script(), dir.path()));
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
  std::printf("ringzero: learner restarted: pid %u -> %u; it resumed from its checkpoint (see %s)\n",
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
