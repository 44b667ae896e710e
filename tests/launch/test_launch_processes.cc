// The supervisor through the path users take: `ringzero-launch start --detach` (what
// launch/launch.sh runs), status, monitor --once --json, restart-learner, stop, with real
// actors, a real learner and (where a test is about it) the real evaluator on a tiny
// Tic-tac-toe run, and processes really killed.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "common/checkpoint_file.h"
#include "launch/process_liveness.h"
#include "shm/segment.h"
#include "tests/launch/launch_test_util.h"

using namespace std::chrono_literals;
using namespace rz::testing;
using rz::launch::process_alive;

namespace {

// Starts a 2-actor run and waits until every role is up (start --detach returns then).
void start_run(LaunchedRun& run, const std::string& extra = "") {
  const CommandResult r = run.start(extra);
  INFO(r.output << "\n--- launch.log ---\n" << run.log("launch"));
  REQUIRE(r.code == 0);
  // stdout's first line is the run directory.
  REQUIRE(r.output.find(run.dir + "\n") != std::string::npos);
}

uint64_t total_records(const Json& s) {
  uint64_t n = 0;
  for (const Json& a : s["actors"].items) n += static_cast<uint64_t>(a["records_committed"].num());
  return n;
}

uint64_t total_games(const Json& s) {
  uint64_t n = 0;
  for (const Json& a : s["actors"].items) n += static_cast<uint64_t>(a["games"].num());
  return n;
}

bool all_alive(const Json& s) {
  for (const Json& a : s["actors"].items) {
    if (!a["alive"].flag()) return false;
  }
  return s["learner"]["alive"].flag();
}

// The supervisor has restarted the learner once: a new pid, alive.
bool learner_restarted_once(LaunchedRun& run, pid_t old_learner) {
  const Json s = run.snapshot();
  return s["learner"]["pid"].num() != old_learner && s["learner"]["alive"].flag() &&
         s["learner"]["restarts"].num() == 1;
}

// Live processes whose command line names `dir` (the run's processes all get it, through
// --run-dir or the config file in it).
std::vector<pid_t> processes_of(const std::string& dir) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    std::string cmdline = rz::testing::read_file(entry.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(dir + "/") != std::string::npos ||
        cmdline.find(dir + " ") != std::string::npos) {
      if (process_alive(pid)) found.push_back(pid);
    }
  }
  return found;
}

}  // namespace

TEST_CASE("start: a Tic-tac-toe run with 2 actors - status and monitor show every role alive",
          "[launch]") {
  LaunchedRun run;
  start_run(run);
  const CommandResult status = run.command("status");
  INFO(status.output);
  CHECK(status.code == 0);
  CHECK(status.output.find("actor-0") != std::string::npos);
  CHECK(status.output.find("actor-1") != std::string::npos);
  CHECK(status.output.find("learner") != std::string::npos);
  CHECK(status.output.find("DEAD") == std::string::npos);

  const Json s = run.snapshot();
  CHECK(s["run"]["game"].str() == "tictactoe");
  CHECK(s["run"]["generation"].num() == 1);
  CHECK(s["run"]["uptime_s"].num() >= 0);
  REQUIRE(s["actors"].size() == 2);
  for (size_t k = 0; k < 2; ++k) {
    const Json& a = s["actors"][k];
    CHECK(a["slot"].num() == k);
    CHECK(a["alive"].flag());
    CHECK(a["pid"].num() == run.pid_of("actor-" + std::to_string(k)));
    CHECK(a["restarts"].num() == 0);
    CHECK(a["heartbeat_age_s"].num() < 10);
  }
  CHECK(s["learner"]["alive"].flag());
  CHECK(s["learner"]["pid"].num() == run.pid_of("learner"));
  CHECK(s["learner"]["device"].str() == "cpu");
  CHECK(s["ring"]["records_in_flight"].num() >= 0);
  CHECK(s["ring"]["bytes_in_flight"].num() >= 0);

  // Games are played and reach the learner.
  CHECK(wait_until([&] { return run.snapshot()["learner"]["records_consumed"].num() > 0; }, 40s));
  // Every process logs into its own file, each line stamped with time and role.
  CHECK(run.log("actor-1").find("Z actor-1: ") != std::string::npos);
  CHECK(run.log("learner").find("Z learner: ") != std::string::npos);
  CHECK(run.log("launch").find("spawned actor-0 pid") != std::string::npos);
}

TEST_CASE("SIGKILL of an actor: restarted on its lane and the run goes on", "[launch]") {
  LaunchedRun run;
  start_run(run);
  REQUIRE(
      wait_until([&] { return run.snapshot()["actors"][1]["records_committed"].num() > 0; }, 40s));
  const pid_t victim = run.pid_of("actor-1");
  const pid_t other = run.pid_of("actor-0");
  const uint64_t records_before = total_records(run.snapshot());
  REQUIRE(kill(victim, SIGKILL) == 0);

  REQUIRE(wait_until(
      [&] {
        const Json s = run.snapshot();
        const Json& a = s["actors"][1];
        return a["pid"].num() != victim && a["alive"].flag() && a["restarts"].num() == 1;
      },
      30s));
  // The new actor commits on lane 1, after what the killed one committed.
  const uint64_t lane1_before =
      static_cast<uint64_t>(run.snapshot()["actors"][1]["records_committed"].num());
  CHECK(wait_until(
      [&] {
        const Json s = run.snapshot();
        return s["actors"][1]["records_committed"].num() > lane1_before &&
               total_records(s) > records_before;
      },
      40s));
  CHECK(run.pid_of("actor-0") == other);
  CHECK(run.snapshot()["actors"][0]["restarts"].num() == 0);
  const std::string log = run.log("launch");
  CHECK(log.find("actor-1 pid " + std::to_string(victim) + " killed by signal 9") !=
        std::string::npos);
  CHECK(log.find("restarting actor-1 in") != std::string::npos);
}

TEST_CASE(
    "restart-learner: new learner resumes from its checkpoint - actors untouched - no record lost",
    "[launch]") {
  LaunchedRun run;
  start_run(run);
  REQUIRE(wait_until([&] { return run.snapshot()["learner"]["step"].num() >= 5; }, 50s));
  const Json before = run.snapshot();
  const pid_t old_learner = run.pid_of("learner");
  const pid_t actor0 = run.pid_of("actor-0"), actor1 = run.pid_of("actor-1");
  const double step_before = before["learner"]["step"].num();

  const CommandResult r = run.command("restart-learner");
  INFO(r.output << "\n--- launch.log ---\n"
                << run.log("launch") << "\n--- learner.log ---\n"
                << run.log("learner"));
  REQUIRE(r.code == 0);
  const pid_t new_learner = run.pid_of("learner");
  CHECK(new_learner != old_learner);
  CHECK_FALSE(process_alive(old_learner));
  CHECK(process_alive(new_learner, "ringzero-"));
  CHECK(run.pid_of("actor-0") == actor0);
  CHECK(run.pid_of("actor-1") == actor1);

  // The old learner's final checkpoint holds at least the step we saw; the new one resumed it.
  const std::string latest = rz::latest_valid_checkpoint(run.dir);
  REQUIRE_FALSE(latest.empty());
  CHECK(rz::read_checkpoint(latest).step >= step_before);
  CHECK(run.log("launch").find("--resume") != std::string::npos);
  const Json after = run.snapshot();
  CHECK(after["learner"]["step"].num() >= step_before);
  CHECK(after["learner"]["restarts"].num() == 1);
  CHECK(after["actors"][0]["restarts"].num() == 0);
  CHECK(after["actors"][1]["restarts"].num() == 0);
  CHECK(wait_until(
      [&] { return run.snapshot()["learner"]["step"].num() > after["learner"]["step"].num(); },
      40s));

  // No committed record lost: everything the actors committed is either consumed by a
  // learner (the counter survives learner restarts) or still in the ring. The snapshot is
  // not atomic, so look for a moment where the books balance.
  std::string books;
  CHECK(wait_until(
      [&] {
        const Json s = run.snapshot();
        const double committed = s["ring"]["records_committed"].num();
        const double accounted =
            s["learner"]["records_consumed"].num() + s["ring"]["records_in_flight"].num();
        books = "committed " + std::to_string(committed) + ", consumed + in flight " +
                std::to_string(accounted);
        return committed == accounted && committed == total_records(s) && committed > 0;
      },
      20s));
  INFO(books);
}

TEST_CASE("restart-learner: a learner that hangs on SIGTERM is SIGKILLed after the timeout",
          "[launch]") {
  LaunchedRun run;
  start_run(run, "--launch.learner_stop_timeout_s 2");
  const pid_t hung = run.pid_of("learner");
  // A stopped process cannot act on SIGTERM: to the supervisor it is a hung learner.
  REQUIRE(kill(hung, SIGSTOP) == 0);
  const CommandResult r = run.command("restart-learner");
  INFO(r.output << "\n" << run.log("launch"));
  CHECK(r.code == 0);
  CHECK(run.log("launch").find("learner pid " + std::to_string(hung) +
                               " did not exit in time after SIGTERM: SIGKILL") !=
        std::string::npos);
  CHECK(run.log("launch").find("learner pid " + std::to_string(hung) + " killed by signal 9") !=
        std::string::npos);
  CHECK_FALSE(process_alive(hung));
  CHECK(process_alive(run.pid_of("learner"), "ringzero-"));
}

TEST_CASE("SIGKILL of the learner: the supervisor restarts it with --resume", "[launch]") {
  LaunchedRun run;
  start_run(run);
  REQUIRE(wait_until([&] { return !rz::list_checkpoints(run.dir).empty(); }, 50s));
  const pid_t victim = run.pid_of("learner");
  REQUIRE(kill(victim, SIGKILL) == 0);
  REQUIRE(wait_until([&] { return learner_restarted_once(run, victim); }, 30s));
  const std::string log = run.log("launch");
  INFO(log);
  CHECK(log.find("learner pid " + std::to_string(victim) + " killed by signal 9") !=
        std::string::npos);
  const auto respawn = log.find("spawned learner pid " + std::to_string(run.pid_of("learner")));
  REQUIRE(respawn != std::string::npos);
  CHECK(log.substr(respawn, log.find('\n', respawn) - respawn).find("--resume") !=
        std::string::npos);
  CHECK(wait_until([&] { return run.log("learner").find("resumed from") != std::string::npos; },
                   30s));
}

TEST_CASE("stop: exit 0 and no process or segment left", "[launch]") {
  LaunchedRun run;
  start_run(run);
  std::vector<pid_t> pids = {run.pid_of("launch"), run.pid_of("learner"), run.pid_of("actor-0"),
                             run.pid_of("actor-1")};
  for (pid_t p : pids) REQUIRE(process_alive(p, "ringzero-"));
  REQUIRE(run.shm_exists());
  // A live monitor is watching; it must notice the end of the run and exit 0 by itself.
  CommandResult monitor;
  std::thread watcher([&] {
    monitor = rz::testing::run_command("timeout 60 " + rz::testing::kMonitor + " --run-dir " +
                                       run.dir + " --interval 0.2");
  });
  std::this_thread::sleep_for(1s);
  const CommandResult r = run.command("stop");
  watcher.join();
  CHECK(monitor.code == 0);
  CHECK(monitor.output.find("actor-1") != std::string::npos);
  CHECK(monitor.output.find("exiting") != std::string::npos);
  INFO(r.output << "\n" << run.log("launch"));
  CHECK(r.code == 0);
  for (pid_t p : pids) CHECK_FALSE(process_alive(p));
  CHECK_FALSE(run.shm_exists());
  for (const char* role : {"launch", "learner", "actor-0", "actor-1"}) {
    CHECK_FALSE(std::filesystem::exists(run.dir + "/pids/" + role + ".pid"));
  }
  CHECK(run.log("launch").find("run stopped cleanly") != std::string::npos);
  // The learner wrote its final checkpoint; `status` now says the run is not running.
  CHECK(run.log("learner").size() > 0);
  CHECK(run.command("status").code == 3);

  // Resuming into another game or network shape is refused before anything starts.
  const std::string resume = rz::testing::kLaunch + " start --detach --resume --run-dir " + run.dir;
  const CommandResult other_game = rz::testing::run_command(resume + " --game connect4");
  INFO(other_game.output);
  CHECK(other_game.code == 2);
  CHECK(other_game.output.find("--resume cannot change the game or the network") !=
        std::string::npos);
  CHECK(rz::testing::run_command(resume + " --net.filters 16").code == 2);
  CHECK_FALSE(run.shm_exists());

  // start --resume continues the stopped run: same directory, next generation, the learner
  // resumes from the checkpoint it wrote when it was stopped.
  const CommandResult resumed = run.start("--resume");
  INFO(resumed.output);
  REQUIRE(resumed.code == 0);
  const Json s = run.snapshot();
  CHECK(s["run"]["generation"].num() == 2);
  CHECK(all_alive(s));
  CHECK(wait_until([&] { return run.log("learner").find("resumed from") != std::string::npos; },
                   30s));
}

TEST_CASE("a second start on a live run is refused - a killed supervisor's segment is reclaimed",
          "[launch]") {
  LaunchedRun run;
  start_run(run);
  const pid_t supervisor = run.pid_of("launch");
  const pid_t learner = run.pid_of("learner");
  REQUIRE(wait_until([&] { return total_records(run.snapshot()) > 0; }, 40s));

  CommandResult again = run.start("--resume");
  INFO(again.output);
  CHECK(again.code == 2);
  CHECK(again.output.find("already running (supervisor pid " + std::to_string(supervisor)) !=
        std::string::npos);
  CHECK(std::count(again.output.begin(), again.output.end(), '\n') == 1);  // one line
  CHECK(process_alive(supervisor, "ringzero-launch"));

  // SIGKILL the supervisor: its children notice (parent-death signal) and exit; the segment
  // stays behind with a dead creator.
  REQUIRE(kill(supervisor, SIGKILL) == 0);
  CHECK(wait_until(
      [&] {
        return !process_alive(learner) && !process_alive(run.pid_of("actor-0")) &&
               !process_alive(run.pid_of("actor-1"));
      },
      40s));
  const Json killed = run.snapshot();  // the segment left behind, read-only
  CHECK(run.shm_exists());
  const CommandResult dead = run.command("status");
  INFO(dead.output);
  CHECK(dead.code == 3);  // not running, although the segment is still there
  // The roles file still says "running"; /proc says they are gone.
  CHECK(dead.output.find("learner   dead (was running as pid " + std::to_string(learner) + ")") !=
        std::string::npos);
  CHECK(dead.output.find("running,") == std::string::npos);
  const CommandResult resumed = run.start("--resume");
  INFO(resumed.output << "\n" << run.log("launch"));
  REQUIRE(resumed.code == 0);
  const Json s = run.snapshot();
  CHECK(s["run"]["generation"].num() == 2);
  CHECK(all_alive(s));
  CHECK(run.pid_of("launch") != supervisor);
  // The counters went on from the segment the killed supervisor left, not from zero.
  CHECK(total_records(s) >= total_records(killed));
  CHECK(total_records(killed) > 0);
  CHECK(run.log("launch").find("carried over from the segment") != std::string::npos);

  // `stop` on a run whose supervisor was killed removes the segment it left behind.
  const pid_t second = run.pid_of("launch");
  REQUIRE(kill(second, SIGKILL) == 0);
  CHECK(wait_until([&] { return !process_alive(second) && !process_alive(run.pid_of("learner")); },
                   40s));
  REQUIRE(run.shm_exists());
  const CommandResult stopped = run.command("stop");
  INFO(stopped.output);
  CHECK(stopped.code == 0);
  CHECK(stopped.output.find("removed the shared memory") != std::string::npos);
  CHECK_FALSE(run.shm_exists());
}

// The CUDA libraries a process must not map unless it is the learner (issue #12): LibTorch's
// CUDA half, the CUDA driver (a context needs it), NCCL, cuDNN, NVRTC, cuBLAS.
const char* const kCudaLibraries[] = {"libtorch_cuda", "libc10_cuda", "libcuda.so", "libnccl",
                                      "libcudnn",      "libnvrtc",    "libcublas"};
// The CUDA runtime and CUPTI: never in the supervisor. An actor maps them only where the
// LibTorch CPU library itself needs them (the CUDA wheel's libtorch_cpu.so has DT_NEEDED
// libcudart.so and libcupti.so for its profiler), which the test reads from that file.
const char* const kCudaRuntime[] = {"libcudart", "libcupti"};

// The dynamic section (readelf -d: its NEEDED libraries) of the libtorch_cpu.so that a process
// maps; "" if it maps none or readelf fails.
std::string torch_cpu_needed(const std::string& maps) {
  const auto at = maps.find("/libtorch_cpu.so");
  if (at == std::string::npos) return "";
  const auto start = maps.rfind(' ', at) + 1;
  const auto end = maps.find('\n', at);
  const std::string path = maps.substr(start, end - start);
  std::string out;
  if (FILE* p = ::popen(("readelf -d '" + path + "' 2>/dev/null").c_str(), "r")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

TEST_CASE(
    "the supervisor and live actors never map a CUDA library - the supervisor maps no LibTorch",
    "[launch]") {
  LaunchedRun run;
  start_run(run);
  const std::string supervisor_maps =
      rz::testing::read_file("/proc/" + std::to_string(run.pid_of("launch")) + "/maps");
  const std::string learner_maps =
      rz::testing::read_file("/proc/" + std::to_string(run.pid_of("learner")) + "/maps");
  const std::string actor_maps =
      rz::testing::read_file("/proc/" + std::to_string(run.pid_of("actor-0")) + "/maps");
  REQUIRE_FALSE(supervisor_maps.empty());
  REQUIRE_FALSE(actor_maps.empty());
  // The check can see LibTorch: the learner and the actor map it.
  REQUIRE(learner_maps.find("libtorch") != std::string::npos);
  REQUIRE(actor_maps.find("libtorch_cpu") != std::string::npos);
  CHECK(supervisor_maps.find("libtorch") == std::string::npos);
  CHECK(supervisor_maps.find("libc10") == std::string::npos);
  for (const char* lib : kCudaLibraries) {
    INFO(lib);
    CHECK(supervisor_maps.find(lib) == std::string::npos);
    CHECK(actor_maps.find(lib) == std::string::npos);
  }
  const std::string torch_cpu = torch_cpu_needed(actor_maps);
  REQUIRE(torch_cpu.find("(NEEDED)") != std::string::npos);
  for (const char* lib : kCudaRuntime) {
    INFO(lib);
    CHECK(supervisor_maps.find(lib) == std::string::npos);
    // Mapped by the actor only as a dependency of libtorch_cpu.so itself (its dynamic section
    // names it), never because the actor links it.
    if (torch_cpu.find(std::string(lib) + ".so") == std::string::npos)
      CHECK(actor_maps.find(lib) == std::string::npos);
    else
      WARN(lib
           << " is mapped into the actor as a dependency of this LibTorch's libtorch_cpu.so "
              "(the CUDA wheel's profiler); no CUDA context: libcuda and libtorch_cuda are absent");
  }
  // With a CUDA LibTorch (build-cuda/) the learner does map its CUDA half, so the checks above
  // look at a build where mapping it would be possible; Debian's 1.13 has none to map.
  if (learner_maps.find("libtorch_cuda") == std::string::npos)
    WARN(
        "the LibTorch in use has no CUDA (the learner maps no libtorch_cuda): the CUDA checks "
        "guard against one being linked later; build-cuda/ (tests/run.sh --cuda) runs them for "
        "real");
}

TEST_CASE(
    "a role that fails during start-up ends the whole run at once - the error names its last line",
    "[launch]") {
  LaunchedRun run;
  // A real program in the learner's place that says why it cannot run and exits, the way the
  // learner does with a config it cannot use.
  const std::string failing = run.base + "/failing-learner.sh";
  {
    std::ofstream script(failing);
    script << "#!/bin/sh\necho 'ringzero-learner: the learner cannot start (test cause)' >&2\nexit "
              "3\n";
  }
  std::filesystem::permissions(failing, std::filesystem::perms::owner_all);
  const auto t0 = std::chrono::steady_clock::now();
  const CommandResult r =
      rz::testing::run_command("RZ_LEARNER_BINARY=" + failing + " " + rz::testing::kLaunch +
                               " start --detach --actors 2 --run-dir " + run.quoted_dir() +
                               rz::testing::kTinyRun + " --eval.enabled false");
  INFO(r.output << "\n" << run.log("launch"));
  CHECK(r.code == 1);
  // Fail fast: no five restarts over a minute.
  CHECK(std::chrono::steady_clock::now() - t0 < 20s);
  CHECK(
      r.output.find("learner exited with status 3 during start-up: the learner cannot start (test "
                    "cause) (see " +
                    run.dir + "/logs/learner.log); the run is stopped") != std::string::npos);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  // Nothing of the run is left: no process, no segment, no pid file.
  CHECK(processes_of(run.dir).empty());
  CHECK_FALSE(run.shm_exists());
  CHECK_FALSE(std::filesystem::exists(run.dir + "/pids/launch.pid"));
  CHECK(run.log("launch").find("giving up") == std::string::npos);
  const CommandResult status = run.command("status");
  INFO(status.output);
  CHECK(status.code == 3);
  CHECK(status.output.find("learner   failed, 0 restarts: the learner cannot start") !=
        std::string::npos);

  // In the foreground too: the last line says why, and the run is gone.
  LaunchedRun fg;
  const CommandResult f = rz::testing::run_command(
      "RZ_ACTOR_BINARY=/bin/false " + rz::testing::kLaunch + " start --actors 2 --run-dir " +
      fg.quoted_dir() + rz::testing::kTinyRun + " --eval.enabled false");
  INFO(f.output);
  CHECK(f.code == 1);
  std::string last = f.output.substr(0, f.output.size() - 1);
  last = last.substr(last.rfind('\n') + 1);
  CHECK(last.rfind("ringzero-launch: actor-", 0) == 0);
  CHECK(last.find("exited with status 1 during start-up") != std::string::npos);
  CHECK(last.find("the run is stopped, nothing is left running") != std::string::npos);
  CHECK(processes_of(fg.dir).empty());
  CHECK_FALSE(fg.shm_exists());
}

TEST_CASE(
    "once the run is up a crash loop is given up - the supervisor stays up and status says why",
    "[launch]") {
  LaunchedRun run;
  start_run(run, "--launch.max_restarts 2 --launch.restart_window_s 60");
  const pid_t supervisor = run.pid_of("launch");
  // Two deaths of actor-0 within the window: restarted after the first, given up after the
  // second.
  const pid_t first = run.pid_of("actor-0");
  REQUIRE(kill(first, SIGKILL) == 0);
  REQUIRE(wait_until(
      [&] {
        const pid_t now = run.pid_of("actor-0");
        return now > 0 && now != first && process_alive(now);
      },
      20s));
  REQUIRE(kill(run.pid_of("actor-0"), SIGKILL) == 0);
  REQUIRE(wait_until(
      [&] {
        return run.log("launch").find("giving up on actor-0: 2 exits within 60 s") !=
               std::string::npos;
      },
      20s));
  CHECK(process_alive(supervisor, "ringzero-launch"));
  const Json s = run.snapshot();
  CHECK(s["actors"][0]["state"].str() == "gave-up");
  CHECK_FALSE(s["actors"][0]["alive"].flag());
  CHECK(s["actors"][1]["alive"].flag());
  CHECK(s["learner"]["alive"].flag());
  const CommandResult status = run.command("status");
  CHECK(status.code == 0);
  CHECK(status.output.find("2 exits within 60 s") != std::string::npos);
  CHECK(run.command("stop").code == 0);
  CHECK_FALSE(run.shm_exists());
  CHECK(processes_of(run.dir).empty());
}

TEST_CASE(
    "start --resume refuses a config.ini its checkpoint does not fit - and a garbage generation "
    "file",
    "[launch]") {
  LaunchedRun run;
  start_run(run);
  REQUIRE(wait_until([&] { return !rz::latest_valid_checkpoint(run.dir).empty(); }, 40s));
  REQUIRE(run.command("stop").code == 0);
  const std::string config = rz::testing::read_file(run.dir + "/config.ini");
  const std::string generation = rz::testing::read_file(run.dir + "/generation");

  // A copied or edited config.ini that says another game (Repro A).
  std::string edited = config;
  const auto at = edited.find("game=tictactoe");
  REQUIRE(at != std::string::npos);
  edited.replace(at, 14, "game=connect4");
  { std::ofstream(run.dir + "/config.ini") << edited; }
  const auto t0 = std::chrono::steady_clock::now();
  const CommandResult r = rz::testing::run_command(
      rz::testing::kLaunch + " start --resume --detach --run-dir " + run.quoted_dir());
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);  // refused up front, nothing spawned
  CHECK(r.output.find(
            "is for game 'tictactoe' with a 1x8 network but config.ini says game 'connect4'") !=
        std::string::npos);
  CHECK(r.output.find("put game=tictactoe") != std::string::npos);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  CHECK(processes_of(run.dir).empty());
  CHECK_FALSE(run.shm_exists());
  CHECK(rz::testing::read_file(run.dir + "/generation") == generation);

  // The same for a network shape that does not fit.
  std::string shape = config;
  const auto filters = shape.find("filters=8");
  REQUIRE(filters != std::string::npos);
  shape.replace(filters, 9, "filters=16");
  { std::ofstream(run.dir + "/config.ini") << shape; }
  const CommandResult s = rz::testing::run_command(
      rz::testing::kLaunch + " start --resume --detach --run-dir " + run.quoted_dir());
  INFO(s.output);
  CHECK(s.code == 2);
  CHECK(s.output.find(
            "with a 1x8 network but config.ini says game 'tictactoe' with a 1x16 network") !=
        std::string::npos);

  // A generation file that holds no number is refused, not silently counted from 1.
  { std::ofstream(run.dir + "/config.ini") << config; }
  { std::ofstream(run.dir + "/generation") << "garbage\n"; }
  const CommandResult g = rz::testing::run_command(
      rz::testing::kLaunch + " start --resume --detach --run-dir " + run.quoted_dir());
  INFO(g.output);
  CHECK(g.code == 2);
  CHECK(g.output.find("holds 'garbage', not a generation number") != std::string::npos);
  CHECK(std::count(g.output.begin(), g.output.end(), '\n') == 1);
  CHECK(processes_of(run.dir).empty());
}

TEST_CASE(
    "start with actors 0 runs cores - 1 actors - printed commands quote a run directory with a "
    "space",
    "[launch]") {
  LaunchedRun run;
  run.dir = run.base + "/my run";
  // launch.sh sets RZ_LAUNCH_SCRIPT so that hints name the script; here, the binary itself.
  const CommandResult r =
      rz::testing::run_command("RZ_LAUNCH_SCRIPT=" + rz::testing::kLaunch + " " +
                               rz::testing::kLaunch + " start --detach --actors 0 --run-dir " +
                               run.quoted_dir() + rz::testing::kTinyRun + " --eval.enabled false");
  INFO(r.output << "\n" << run.log("launch"));
  REQUIRE(r.code == 0);
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const size_t expected = static_cast<size_t>(std::max(1, cores - 1));
  CHECK(run.snapshot()["actors"].size() == expected);
  // config.ini records the resolved number: every process and a later --resume agree on it.
  CHECK(rz::testing::read_file(run.dir + "/config.ini")
            .find("\nactors=" + std::to_string(expected) + "\n") != std::string::npos);
  CHECK(r.output.find("  stop:    " + rz::testing::kLaunch + " stop --run-dir " + run.base +
                      "/my\\ run\n") != std::string::npos);
  // Each printed command works when pasted into a shell.
  const auto line_start = r.output.find("  status:  ");
  REQUIRE(line_start != std::string::npos);
  const std::string status_line =
      r.output.substr(line_start + 11, r.output.find('\n', line_start) - line_start - 11);
  CHECK(rz::testing::run_command(status_line).code == 0);
}

TEST_CASE("bad start and restart requests are refused in one line that says what to do",
          "[launch]") {
  LaunchedRun run;
  struct Case {
    std::string args;
    std::string must_contain;
  };
  const std::vector<Case> cases = {
      {"start --actors abc --run-dir " + run.quoted_dir(),
       "--actors must be a whole number from 0 to 256 (0 = cores - 1), not 'abc'"},
      {"start --actors 257 --run-dir " + run.quoted_dir(), "not '257'"},
      {"start --detach --actors 3 --shm.stats_slots 2 --run-dir " + run.quoted_dir(),
       "option shm.stats_slots=2 is invalid: use at least 8"},
      {"start --resume --run-dir " + run.quoted_dir(),
       "there is no run in " + run.dir +
           " to resume (the directory does not exist); start a new one with: "},
      {"restart-learner --run-dir " + run.quoted_dir(),
       "there is no run in " + run.dir + " (the directory does not exist); start one with: "},
      {"status --run-dir " + run.quoted_dir(), "there is no run in " + run.dir},
  };
  for (const Case& c : cases) {
    const CommandResult r = rz::testing::run_command(rz::testing::kLaunch + " " + c.args);
    INFO(c.args << "\n" << r.output);
    CHECK(r.code == 2);
    CHECK(r.output.find(c.must_contain) != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  }
  CHECK_FALSE(std::filesystem::exists(run.dir + "/generation"));  // nothing was started
}

TEST_CASE("the stop flag set by any process ends the run cleanly", "[launch]") {
  LaunchedRun run;
  start_run(run);
  const pid_t supervisor = run.pid_of("launch");
  {
    // What a process does on a fatal error: set the run-wide stop flag in the control block.
    auto segment = rz::shm::Segment::open(run.shm_name());
    segment->control().request_stop();
  }
  CHECK(wait_until([&] { return !process_alive(supervisor); }, 40s));
  CHECK_FALSE(run.shm_exists());
  const std::string log = run.log("launch");
  INFO(log);
  CHECK(log.find("stopping the run (stop flag set in the control block)") != std::string::npos);
  CHECK(log.find("run stopped cleanly") != std::string::npos);
  CHECK(log.find("restarting actor") == std::string::npos);
}

TEST_CASE("SIGUSR1 to the supervisor restarts the learner alone", "[launch]") {
  LaunchedRun run;
  start_run(run);
  const pid_t old_learner = run.pid_of("learner");
  const pid_t actor0 = run.pid_of("actor-0"), actor1 = run.pid_of("actor-1");
  REQUIRE(kill(run.pid_of("launch"), SIGUSR1) == 0);
  REQUIRE(wait_until([&] { return learner_restarted_once(run, old_learner); }, 40s));
  CHECK_FALSE(process_alive(old_learner));
  CHECK(run.pid_of("actor-0") == actor0);
  CHECK(run.pid_of("actor-1") == actor1);
  const std::string log = run.log("launch");
  INFO(log);
  CHECK(log.find("restarting the learner (SIGUSR1 from pid " + std::to_string(getpid()) + ")") !=
        std::string::npos);
  CHECK(log.find("learner pid " + std::to_string(old_learner) + " exited with status 0") !=
        std::string::npos);
}

TEST_CASE("stop + start --resume: every counter goes on from where it was", "[launch]") {
  LaunchedRun run;
  start_run(run);
  REQUIRE(wait_until(
      [&] {
        const Json s = run.snapshot();
        return total_records(s) > 0 && s["learner"]["step"].num() >= 5 &&
               s["learner"]["records_consumed"].num() > 0;
      },
      50s));
  const Json before = run.snapshot();
  const CommandResult stopped = run.command("stop");
  INFO(stopped.output << "\n" << run.log("launch"));
  REQUIRE(stopped.code == 0);
  const std::string saved = rz::testing::read_file(run.dir + "/stats.snapshot");
  CHECK(saved.rfind("ringzero-stats 1\n", 0) == 0);
  CHECK(saved.find("slot actor 1 0 ") != std::string::npos);

  const CommandResult resumed = run.start("--resume");
  INFO(resumed.output);
  REQUIRE(resumed.code == 0);
  const Json after = run.snapshot();
  CHECK(after["run"]["generation"].num() == 2);
  for (size_t k = 0; k < 2; ++k) {
    INFO("actor-" << k);
    CHECK(after["actors"][k]["games"].num() >= before["actors"][k]["games"].num());
    CHECK(after["actors"][k]["records_committed"].num() >=
          before["actors"][k]["records_committed"].num());
    CHECK(after["actors"][k]["positions"].num() >= before["actors"][k]["positions"].num());
    CHECK(after["actors"][k]["simulations"].num() >= before["actors"][k]["simulations"].num());
    CHECK(after["actors"][k]["restarts"].num() == 0);  // a resume is not a restart
  }
  CHECK(total_records(before) > 0);
  CHECK(after["learner"]["step"].num() >= before["learner"]["step"].num());
  CHECK(after["learner"]["records_consumed"].num() >= before["learner"]["records_consumed"].num());
  CHECK(after["learner"]["restarts"].num() == 0);
  CHECK(run.log("launch").find("carried over from " + run.dir + "/stats.snapshot") !=
        std::string::npos);
  // And they keep counting in the new generation.
  CHECK(wait_until([&] { return total_games(run.snapshot()) > total_games(after); }, 30s));
}

TEST_CASE(
    "the evaluator: started with the run, shown by the monitor, restarted after SIGKILL, stopped",
    "[launch]") {
  LaunchedRun run;
  start_run(run, rz::testing::kTinyEval);
  const pid_t eval = run.pid_of("eval");
  REQUIRE(eval > 0);
  CHECK(process_alive(eval, "ringzero-eval"));
  // --detach returned once it runs; the monitor shows it as evaluator 0 with its metrics.
  const Json s = run.snapshot();
  REQUIRE(s["evaluators"].size() == 1);
  CHECK(s["evaluators"][0]["index"].num() == 0);
  CHECK(s["evaluators"][0]["pid"].num() == eval);
  CHECK(s["evaluators"][0]["alive"].flag());
  CHECK(s["evaluators"][0]["state"].str() == "running");
  CHECK(s["evaluators"][0]["restarts"].num() == 0);
  CHECK(run.log("launch").find("spawned eval pid " + std::to_string(eval)) != std::string::npos);
  CHECK(run.log("launch").find(" live --shm ") != std::string::npos);
  // It runs below the actors and the learner.
  const std::string stat = rz::testing::read_file("/proc/" + std::to_string(eval) + "/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::vector<std::string> field{std::istream_iterator<std::string>(fields), {}};
  REQUIRE(field.size() > 16);
  CHECK(field[16] == "10");  // nice (field 19 of proc(5); field 3, the state, is field[0])

  REQUIRE(kill(eval, SIGKILL) == 0);
  REQUIRE(wait_until(
      [&] {
        const Json t = run.snapshot();
        return t["evaluators"].size() == 1 && t["evaluators"][0]["pid"].num() != eval &&
               t["evaluators"][0]["alive"].flag() && t["evaluators"][0]["restarts"].num() == 1;
      },
      30s));
  CHECK(run.log("launch").find("eval pid " + std::to_string(eval) + " killed by signal 9") !=
        std::string::npos);

  const pid_t second = run.pid_of("eval");
  // Stop once the new evaluator is past its start-up (a SIGTERM before it has installed its
  // handler would kill it, a result about start-up, not about stopping): its first log line.
  auto started = [&] {
    const std::string log = run.log("eval");
    size_t n = 0;
    for (size_t at = log.find(" on tictactoe (segment "); at != std::string::npos;
         at = log.find(" on tictactoe (segment ", at + 1)) {
      ++n;
    }
    return n >= 2;
  };
  CHECK(wait_until(started, 30s));
  const CommandResult stopped = run.command("stop");
  INFO(stopped.output << "\n" << run.log("launch") << "\n--- eval.log ---\n" << run.log("eval"));
  CHECK(stopped.code == 0);
  CHECK_FALSE(process_alive(second));
  CHECK(run.log("launch").find("eval pid " + std::to_string(second) + " exited with status 0") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(run.dir + "/pids/eval.pid"));
}
