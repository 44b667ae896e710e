// `ringzero-launch start`: check the request, write RUN/config.ini, then supervise the run in
// the foreground or (--detach) from a background session that reports back once every role
// is up. The steps are told in start_command.h.
#include "launch/start_command.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/checkpoint_file.h"
#include "common/config.h"
#include "common/config_options.h"
#include "common/durable_file.h"
#include "common/file_lock.h"
#include "launch/command_support.h"
#include "launch/commands.h"
#include "launch/process_liveness.h"
#include "launch/run_dir.h"
#include "launch/run_summary.h"
#include "launch/scale_setup.h"

namespace rz::launch {

namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;

// How long --detach waits for every role to report running (the learner loads LibTorch).
constexpr auto kReadyTimeout = std::chrono::seconds(180);
// How long start waits for RUN/lock held by a supervisor that may be dying.
constexpr auto kLockGrace = std::chrono::milliseconds(2000);

bool given_on_command_line(int argc, char** argv, const std::string& flag) {
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == flag || a.rfind(flag + "=", 0) == 0) return true;
  }
  return false;
}

// `start --resume` on a run whose newest checkpoint does not fit config.ini (edited by hand,
// copied from another run) would only make the learner die at start: refuse up front.
void check_checkpoint_fits(const RunDir& dir, const RunConfig& config) {
  const std::string newest = latest_valid_checkpoint(dir.path());
  if (newest.empty()) return;  // nothing to resume from: the learner starts fresh
  CheckpointInfo info;
  try {
    info = read_checkpoint(newest);
  } catch (const CheckpointError& e) {
    throw UsageError(fmt::format("cannot read the run's newest checkpoint: {}", e.what()));
  }
  const std::string shape = config.net.shape_string();
  if (info.game_spec != config.game || info.net_shape != shape) {
    throw UsageError(fmt::format(
        "cannot resume {}: its newest checkpoint {} is for game '{}' with a {} network but "
        "{} says game '{}' with a {} network; put game={} and the net.blocks/net.filters of "
        "{} back into {}, or start a new run in another --run-dir",
        dir.path(), fs::path(newest).filename().string(), info.game_spec, info.net_shape,
        fs::path(dir.config_file()).filename().string(), config.game, shape, info.game_spec,
        info.net_shape, dir.config_file()));
  }
}

// "run DIR is already running (supervisor pid P)": what start says to a run it cannot own.
UsageError already_running(const RunDir& dir, pid_t pid) {
  return UsageError(fmt::format(
      "run {} is already running (supervisor pid {}); watch it with {} "
      "monitor --run-dir {} or stop it with {} stop --run-dir {}",
      dir.path(), pid, script(), shell_quote(dir.path()), script(), shell_quote(dir.path())));
}

// A start without --resume in a directory that holds a run.
UsageError already_holds_a_run(const RunDir& dir) {
  return UsageError(
      fmt::format("{} already holds a run; continue it with --resume or choose "
                  "another --run-dir",
                  dir.path()));
}

// The line that tells a learner host's user how actor hosts join it (start --serve).
void print_serve_hint(const RunConfig& config) {
  if (config.scale.serve.empty()) return;
  fmt::print(stderr,
             "ringzero: serving actor hosts on {}; on each, run: {} join --learner {} "
             "--secret-file <a copy of {}>\n",
             config.scale.serve, script(), config.scale.serve, config.scale.secret_file);
}

}  // namespace

int start_command(int argc, char** argv) {
  StartRequest request = read_start_request(argc, argv);
  const RunDir dir = choose_run_dir(&request);
  check_run_dir(dir, &request);
  RunConfig config = parse_start_options(&request);
  refuse_running_run(dir);
  check_continuation(dir, request, config);
  complete_config(dir, request, &config);
  check_scale_out(dir, &config);
  const SupervisorOptions options = supervisor_options(config, dir);
  std::unique_ptr<FileLock> lock = create_run(dir, request, config);
  point_latest_link(dir);
  if (request.detach) return start_detached(options, dir, std::move(lock));
  return supervise_here(options, dir, std::move(lock), request.resume);
}

StartRequest read_start_request(int argc, char** argv) {
  StartRequest request;
  // Peek at --run-dir / --resume / --config: resuming reads the run's own config.ini.
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--run-dir" && i + 1 < argc) request.run_dir = argv[i + 1];
    if (a.rfind("--run-dir=", 0) == 0) request.run_dir = a.substr(10);
    if (a == "--resume") request.resume = true;
    if (a == "--config" || a.rfind("--config=", 0) == 0) request.has_config = true;
  }
  request.stats_slots_given = given_on_command_line(argc, argv, "--shm.stats_slots");
  // --actors N is launch.actors=N, checked here so that a bad value gets a message that says
  // what is expected (boost's would not), and rewritten before the parse so that validate()
  // sizes everything (the stats slots) for the real number of actors.
  std::vector<std::string>& args = request.args;
  args = {"ringzero-launch start"};
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    // Scale-out (docs/scale-out.md): --serve HOST:PORT and --secret-file F are the options
    // scale.serve and scale.secret_file.
    if (a == "--serve" || a == "--secret-file") {
      if (i + 1 >= argc)
        throw UsageError(a + (a == "--serve" ? " needs HOST:PORT" : " needs a file"));
      args.push_back((a == "--serve" ? "--scale.serve=" : "--scale.secret_file=") +
                     std::string(argv[++i]));
      continue;
    }
    if (a.rfind("--serve=", 0) == 0 || a.rfind("--secret-file=", 0) == 0) {
      args.push_back(a.rfind("--serve=", 0) == 0 ? "--scale.serve=" + a.substr(8)
                                                 : "--scale.secret_file=" + a.substr(14));
      continue;
    }
    if (a == "--actors" || a.rfind("--actors=", 0) == 0) {
      if (a == "--actors" && i + 1 >= argc)
        throw UsageError("--actors needs a value (0 to 256, 0 = cores - 1)");
      const int n = parse_actor_count(a == "--actors" ? argv[++i] : a.substr(9));
      args.push_back("--launch.actors=" + std::to_string(n));
      // A new run sized by --actors alone gets the stats slots its processes need, unless
      // the user chose their number (validate() then refuses too few).
      RunConfig sizing;
      sizing.launch.actors = n;
      if (!request.resume && !request.has_config && !request.stats_slots_given &&
          stats_slots_needed(sizing) > sizing.shm.stats_slots) {
        args.push_back("--shm.stats_slots=" + std::to_string(stats_slots_needed(sizing)));
      }
      continue;
    }
    args.push_back(a);
  }
  return request;
}

RunDir choose_run_dir(StartRequest* request) {
  if (request->run_dir.empty()) {
    if (request->resume) {
      throw UsageError("start --resume needs --run-dir DIR (the run to continue)");
    }
    request->run_dir = new_run_dir_name("runs/%Y%m%d-%H%M%S");
    request->args.push_back("--run-dir");
    request->args.push_back(request->run_dir);
  }
  return RunDir(request->run_dir);
}

void check_run_dir(const RunDir& dir, StartRequest* request) {
  if (dir.exists()) dir.check_private();
  if (request->resume && !fs::exists(dir.config_file())) {
    throw UsageError(fmt::format(
        "there is no run in {} to resume ({}); start a new one with: {} start --run-dir {}",
        dir.path(), dir.exists() ? "no config.ini in it" : "the directory does not exist", script(),
        shell_quote(dir.path())));
  }
  if (request->resume && !request->has_config) {
    request->args.push_back("--config");
    request->args.push_back(dir.config_file());
  }
}

RunConfig parse_start_options(StartRequest* request) {
  RoleOptions role("launch",
                   "ringzero-launch start [--game tictactoe|connect4|dotsandboxes] [--actors N] "
                   "[--run-dir DIR] [--minutes M] [--config FILE] [--resume] [--detach] "
                   "[--<option> VALUE ...]");
  role.flags.add_options()("actors", po::value<std::string>(),
                           "actor processes, 0 to 256 (default: launch.actors; 0 = cores - 1)")(
      "resume", po::bool_switch(), "continue the stopped run in --run-dir from its checkpoint")(
      "detach", po::bool_switch(), "run in the background; return once every role is up");
  std::vector<const char*> argv;
  for (const std::string& a : request->args) argv.push_back(a.c_str());
  po::variables_map flags;
  RunConfig config = parse_config_or_exit(static_cast<int>(argv.size()),
                                          const_cast<char**>(argv.data()), role, &flags);
  request->detach = flags["detach"].as<bool>();
  return config;
}

void refuse_running_run(const RunDir& dir) {
  pid_t pid = 0;
  if (supervisor_alive(dir, &pid) &&
      !wait_until([&] { return !supervisor_alive(dir, &pid); },
                  std::chrono::duration_cast<std::chrono::seconds>(kLockGrace))) {
    throw already_running(dir, pid);
  }
}

void check_continuation(const RunDir& dir, const StartRequest& request, const RunConfig& config) {
  const bool has_run = fs::exists(dir.config_file());
  if (!request.resume && has_run) throw already_holds_a_run(dir);
  if (request.resume && !has_run) {
    throw UsageError(
        fmt::format("nothing to resume in {} ({} is missing); start a new run "
                    "without --resume",
                    dir.path(), dir.config_file()));
  }
  if (!request.resume) return;
  // A checkpoint fits one game and one network shape: refuse to resume into another.
  const RunConfig before = load_config_file(dir.config_file());
  if (before.game != config.game || before.net != config.net) {
    throw UsageError(fmt::format(
        "run {} trains {} with a {} network; --resume cannot change the game or the network "
        "(start a new run in another --run-dir instead)",
        dir.path(), before.game, before.net.shape_string()));
  }
  check_checkpoint_fits(dir, config);
  try {
    check_minutes_left(dir.path(), config.minutes);
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
  read_generation(dir);  // a UserError naming the fix when RUN/generation is damaged
}

void complete_config(const RunDir& dir, const StartRequest& request, RunConfig* config) {
  // 0 = cores - 1, resolved here so that config.ini records the real number (every process
  // and a later --resume see the same), and the stats slots are sized for it.
  config->launch.actors = effective_actor_count(*config);
  if (!request.resume && !request.has_config && !request.stats_slots_given) {
    config->shm.stats_slots = std::max(config->shm.stats_slots, stats_slots_needed(*config));
  }
  config->run_dir = dir.path();
  if (config->shm.name.empty()) config->shm.name = default_shm_name(dir.path());
  resolve_random_seed(config);
  validate(*config);
}

void check_scale_out(const RunDir& dir, RunConfig* config) {
  if (!config->scale.learner.empty()) {
    throw UsageError(
        fmt::format("{} is an actor host's run (scale.learner = {}): continue it with "
                    "{} join --learner {} --secret-file F --run-dir {}",
                    dir.path(), config->scale.learner, script(), config->scale.learner,
                    shell_quote(dir.path())));
  }
  if (config->scale.serve.empty()) return;
  if (!config->scale.secret_file.empty() && !fs::exists(config->scale.secret_file) &&
      config->scale.secret_file != dir.path() + "/secret") {
    throw UsageError(
        fmt::format("--secret-file {}: no such file; write one (16+ characters, "
                    "chmod 600) or leave --secret-file out for a generated one",
                    config->scale.secret_file));
  }
  prepare_serve(config, dir);
}

SupervisorOptions supervisor_options(const RunConfig& config, const RunDir& dir) {
  SupervisorOptions options;
  options.config = config;
  options.actors = effective_actor_count(config);
  options.run_dir = dir.path();
  options.actor_binary = child_binary("RZ_ACTOR_BINARY", "../actor/ringzero-actor");
  options.learner_binary = child_binary("RZ_LEARNER_BINARY", "../learner/ringzero-learner");
  if (config.eval.enabled) {
    try {
      options.eval_binary = child_binary("RZ_EVAL_BINARY", "../common/eval/ringzero-eval");
    } catch (const UsageError& e) {
      throw UsageError(
          fmt::format("{}; or start without the evaluator: --eval.enabled false", e.what()));
    }
  }
  return options;
}

std::unique_ptr<FileLock> create_run(const RunDir& dir, const StartRequest& request,
                                     const RunConfig& config) {
  dir.create_layout();
  std::unique_ptr<FileLock> lock = take_run_lock(dir);
  if (!request.resume && fs::exists(dir.config_file())) throw already_holds_a_run(dir);
  write_config_atomically(config, dir.config_file());
  return lock;
}

// launch.sh sets RZ_LATEST_LINK (runs/latest) for runs in its default place: it is pointed
// at this run atomically (a new link renamed over the old one).
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

int supervise_here(const SupervisorOptions& options, const RunDir& dir,
                   std::unique_ptr<FileLock> lock, bool resume) {
  lock->record_pid(::getpid());
  const RunConfig& config = options.config;
  fmt::print(stderr,
             "ringzero: {} {} with {} actor{} + learner{} in {} (Ctrl-C stops it cleanly)\n",
             resume ? "resuming" : "training", config.game, options.actors,
             options.actors == 1 ? "" : "s", config.eval.enabled ? " + evaluator" : "", dir.path());
  print_next_steps(dir, stderr);
  print_serve_hint(config);
  return run_supervisor(options);
}

std::unique_ptr<FileLock> take_run_lock(const RunDir& dir) {
  // A supervisor SIGKILLed a moment ago still holds it until the kernel has torn it down:
  // give that a moment rather than call the run running.
  std::unique_ptr<FileLock> lock = FileLock::acquire(dir.lock_file(), kLockGrace);
  if (!lock) {
    pid_t pid = 0;
    FileLock::held(dir.lock_file(), &pid);
    throw already_running(dir, pid);
  }
  return lock;
}

// Fork a session leader that runs the supervisor; return once it reports every role up. The
// child inherits `lock` (RUN/lock: an OFD lock survives fork) and holds it for its life.
int start_detached(const SupervisorOptions& options, const RunDir& dir,
                   std::unique_ptr<FileLock> lock) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("cannot create a pipe");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("cannot fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::close(fds[0]);
    ::setsid();
    try {
      lock->record_pid(::getpid());
    } catch (const std::exception&) {
      // Only messages use the recorded pid; the lock itself is what counts.
    }
    const int null_fd = ::open("/dev/null", O_RDWR);
    const int log_fd = open_for_append(dir.log_file("launch"));
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
  lock.reset();  // our fd only: the supervisor holds the same lock through its own
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
    const bool joined = !options.config.scale.learner.empty();
    fmt::print(stderr,
               "ringzero: run is up in the background (supervisor pid {}, {} actor{} + {}{})\n",
               pid, options.actors, options.actors == 1 ? "" : "s", joined ? "relay" : "learner",
               !joined && options.config.eval.enabled ? " + evaluator" : "");
    print_next_steps(dir, stderr);
    print_serve_hint(options.config);
    return 0;
  }
  if (reply.rfind("error: ", 0) == 0) {
    // The supervisor stops the whole run after a failed start: wait for it, so that nothing
    // of the run is left when we return (its children are reaped by it; it is ours).
    const auto stop_deadline =
        std::chrono::steady_clock::now() +
        std::chrono::seconds(options.config.launch.learner_stop_timeout_s + 15);
    bool gone = false;
    while (std::chrono::steady_clock::now() < stop_deadline) {
      int status = 0;
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid || (r < 0 && errno == ECHILD)) {
        gone = true;
        break;
      }
      ::usleep(100 * 1000);
    }
    if (gone) {
      fmt::print(stderr, "ringzero-launch: {}; the run is stopped, nothing is left running\n",
                 reply.substr(7));
    } else {
      fmt::print(stderr, "ringzero-launch: {}; the supervisor (pid {}) is still stopping the run\n",
                 reply.substr(7), pid);
    }
  } else if (reply.empty() && !process_alive(pid)) {
    fmt::print(stderr, "ringzero-launch: the supervisor exited before the run was up; see {}\n",
               dir.log_file("launch"));
  } else {
    fmt::print(stderr,
               "ringzero-launch: not every role came up within {} s; see {}/logs/ (the run is "
               "still supervised: stop it with {} stop --run-dir {})\n",
               kReadyTimeout.count(), dir.path(), script(), shell_quote(dir.path()));
  }
  return 1;
}

}  // namespace rz::launch
