// Run-level safety (issue #13 findings 1-5) with the real binaries on tiny Tic-tac-toe runs:
// a run directory is trusted only when it is the user's own and private, a run is "running"
// only while its supervisor holds RUN/lock, a new learner waits for the old one's checkpoint
// lock, and `stop` after a killed supervisor removes only this run's own segment.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "common/file_lock.h"
#include "common/run_config.h"
#include "launch/process_liveness.h"
#include "shm/segment.h"
#include "tests/launch/launch_test_util.h"

using namespace std::chrono_literals;
using namespace rz::testing;
using rz::launch::process_alive;
namespace fs = std::filesystem;

namespace {

void start_run(LaunchedRun& run, const std::string& extra = "") {
  const CommandResult r = run.start(extra);
  INFO(r.output << "\n--- launch.log ---\n" << run.log("launch"));
  REQUIRE(r.code == 0);
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

bool has_checkpoint(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir + "/checkpoints", ec))
    if (e.path().extension() == ".rzck") return true;
  return false;
}

}  // namespace

TEST_CASE(
    "run dir trust: a run directory others can write is refused in one line - nothing written",
    "[launch][safety]") {
  LaunchedRun run;
  fs::create_directories(run.dir);
  ::chmod(run.dir.c_str(), 0777);
  CommandResult r = run.start();
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK(r.output.find("run directory " + run.dir +
                      " is writable by group and others (mode 0777)") != std::string::npos);
  CHECK(r.output.find("chmod 700") != std::string::npos);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(run.dir + "/config.ini"));
  // A subdirectory counts too.
  ::chmod(run.dir.c_str(), 0700);
  fs::create_directories(run.dir + "/logs");
  ::chmod((run.dir + "/logs").c_str(), 0770);
  r = run.start();
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK(r.output.find("run directory " + run.dir + "/logs is writable by group (mode 0770)") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(run.dir + "/config.ini"));
}

TEST_CASE("run dir trust: a planted symlink in the run directory is refused, its target untouched",
          "[launch][safety]") {
  LaunchedRun run;
  fs::create_directories(run.dir + "/logs");
  ::chmod(run.dir.c_str(), 0700);
  ::chmod((run.dir + "/logs").c_str(), 0700);
  const std::string victim = run.base + "/victim";
  { std::ofstream(victim) << "precious\n"; }
  fs::create_symlink(victim, run.dir + "/logs/launch.log");
  const CommandResult r = run.start();
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK(r.output.find("holds a symbolic link launch.log") != std::string::npos);
  CHECK(read_file(victim) == "precious\n");
  CHECK_FALSE(fs::exists(run.dir + "/config.ini"));
}

TEST_CASE(
    "run dir trust: every file and directory of a run is private (0600 / 0700) whatever the umask",
    "[launch][safety]") {
  LaunchedRun run;
  const mode_t old = ::umask(022);  // inherited by the launcher through popen
  start_run(run);
  ::umask(old);
  REQUIRE(wait_until([&] { return has_checkpoint(run.dir); }, 60s));
  CHECK(mode_of(run.dir) == 0700);
  for (const char* d : {"logs", "pids", "checkpoints"}) CHECK(mode_of(run.dir + "/" + d) == 0700);
  for (const char* f :
       {"config.ini", "lock", "shm_name", "shm_token", "generation", "logs/launch.log",
        "logs/learner.log", "pids/roles", "pids/launch.pid", "metrics.csv"}) {
    INFO(f);
    CHECK(mode_of(run.dir + "/" + f) == 0600);
  }
  for (const auto& e : fs::directory_iterator(run.dir + "/checkpoints")) {
    INFO(e.path());
    CHECK(mode_of(e.path().string()) == 0600);
  }
}

TEST_CASE("run lock: a copied run directory is not running - status and stop on it touch nobody",
          "[launch][safety]") {
  LaunchedRun run;
  start_run(run);
  const pid_t supervisor = run.pid_of("launch");
  LaunchedRun copy;
  fs::create_directories(fs::path(copy.dir).parent_path());
  fs::copy(run.dir, copy.dir, fs::copy_options::recursive);
  REQUIRE(rz::launch::read_pid_file(copy.dir + "/pids/launch.pid") == supervisor);
  const CommandResult status = copy.command("status");
  INFO(status.output);
  CHECK(status.code == 3);
  const CommandResult stop = copy.command("stop", "--timeout 10");
  INFO(stop.output);
  CHECK(stop.output.find("is not running") != std::string::npos);
  std::this_thread::sleep_for(500ms);
  CHECK(process_alive(supervisor, "ringzero-launch"));
  CHECK(run.shm_exists());  // the original run's segment: not ours to remove
  CHECK(run.command("status").code == 0);
  copy.dir.clear();  // its processes are the original run's: never kill them from here
}

TEST_CASE("run lock: two starts on one directory at once - one wins, the loser writes nothing",
          "[launch][safety]") {
  LaunchedRun run;
  auto a =
      std::async(std::launch::async, [&] { return run.start("--learner.keep_checkpoints 7"); });
  auto b =
      std::async(std::launch::async, [&] { return run.start("--learner.keep_checkpoints 8"); });
  const CommandResult ra = a.get(), rb = b.get();
  INFO(ra.output << "\n---\n" << rb.output);
  REQUIRE(((ra.code == 0) != (rb.code == 0)));
  const CommandResult& loser = ra.code == 0 ? rb : ra;
  CHECK(loser.code == 2);
  CHECK((loser.output.find("already running") != std::string::npos ||
         loser.output.find("already holds a run") != std::string::npos));
  const std::string winner_seed = ra.code == 0 ? "keep_checkpoints=7" : "keep_checkpoints=8";
  CHECK(read_file(run.dir + "/config.ini").find(winner_seed) != std::string::npos);
}

TEST_CASE(
    "checkpoint lock: a new learner waits for the old one still holding the run's checkpoints",
    "[launch][safety]") {
  LaunchedRun run;
  start_run(run);
  REQUIRE(wait_until([&] { return has_checkpoint(run.dir); }, 60s));
  REQUIRE(run.command("stop", "--timeout 60").code == 0);
  // What a learner left by a SIGKILLed supervisor looks like while it writes its final
  // checkpoint: it holds RUN/checkpoints/lock.
  auto old_learner = rz::FileLock::try_acquire(run.dir + "/checkpoints/lock");
  REQUIRE(old_learner);
  old_learner->record_pid(::getpid());
  auto resumed = std::async(std::launch::async, [&] { return run.start("--resume"); });
  CHECK(wait_until(
      [&] {
        return run.log("learner").find("waiting up to") != std::string::npos &&
               run.log("learner").find("previous learner (pid " + std::to_string(::getpid()) +
                                       ")") != std::string::npos;
      },
      60s));
  CHECK(resumed.wait_for(1s) == std::future_status::timeout);  // not up while we hold it
  old_learner.reset();
  const CommandResult r = resumed.get();
  INFO(r.output << "\n" << run.log("learner"));
  CHECK(r.code == 0);
  pid_t holder = 0;
  CHECK(rz::FileLock::held(run.dir + "/checkpoints/lock", &holder));
  CHECK(holder == run.pid_of("learner"));
}

TEST_CASE("stop after a killed supervisor removes only this run's own segment",
          "[launch][safety]") {
  LaunchedRun run;
  start_run(run);
  const pid_t supervisor = run.pid_of("launch");
  const pid_t learner = run.pid_of("learner");
  const std::string own = run.shm_name();
  REQUIRE(::kill(supervisor, SIGKILL) == 0);
  REQUIRE(wait_until([&] { return !process_alive(supervisor) && !process_alive(learner); }, 40s));
  REQUIRE(run.shm_exists());
  // RUN/shm_name pointing at an object that is not this run's segment: left alone.
  const std::string foreign = "/rz-foreign-" + std::to_string(::getpid());
  {
    std::ofstream f("/dev/shm" + foreign, std::ios::binary);
    std::mt19937 rng(5);
    for (int i = 0; i < 8192; ++i) f.put(static_cast<char>(rng()));
  }
  rz::launch::write_text_atomically(run.dir + "/shm_name", foreign + "\n");
  CommandResult r = run.command("stop");
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK(r.output.find("left the shared memory " + foreign + " alone") != std::string::npos);
  CHECK(fs::exists("/dev/shm" + foreign));
  ::unlink(("/dev/shm" + foreign).c_str());
  // Its own segment, but with another run token on disk (a run in another container with
  // the same path): left alone too.
  rz::launch::write_text_atomically(run.dir + "/shm_name", own + "\n");
  const std::string token = read_file(run.dir + "/shm_token");
  rz::launch::write_text_atomically(run.dir + "/shm_token", "1234\n");
  r = run.command("stop");
  INFO(r.output);
  CHECK(r.output.find("another run token") != std::string::npos);
  CHECK(fs::exists("/dev/shm" + own));
  // With its own token: removed.
  rz::launch::write_text_atomically(run.dir + "/shm_token", token);
  r = run.command("stop");
  INFO(r.output);
  CHECK(r.output.find("removed the shared memory " + own) != std::string::npos);
  CHECK_FALSE(fs::exists("/dev/shm" + own));
}

TEST_CASE("run token: a start never reclaims another run's segment, even with its supervisor dead",
          "[launch][safety]") {
  LaunchedRun first, second;
  const std::string name = "--shm.name /rz-shared-" + std::to_string(::getpid());
  start_run(first, name);
  const pid_t supervisor = first.pid_of("launch");
  REQUIRE(::kill(supervisor, SIGKILL) == 0);
  REQUIRE(wait_until(
      [&] { return !process_alive(supervisor) && !process_alive(first.pid_of("learner")); }, 40s));
  REQUIRE(first.shm_exists());
  const CommandResult r = second.start(name);
  INFO(r.output << "\n" << second.log("launch"));
  CHECK(r.code != 0);
  CHECK(r.output.find("belongs to another run (" + first.dir) != std::string::npos);
  CHECK(first.shm_exists());
  auto seg = rz::shm::Segment::open(first.shm_name(), true);
  CHECK(seg->run_info().find("run_dir=" + first.dir + "\n") != std::string::npos);
}

namespace {
// The versions "published starting weights as version N" lines of learner.log, in order.
std::vector<uint64_t> starting_versions(const std::string& log) {
  std::vector<uint64_t> found;
  const std::string key = "published starting weights as version ";
  for (size_t at = log.find(key); at != std::string::npos; at = log.find(key, at + 1))
    found.push_back(std::stoull(log.substr(at + key.size())));
  return found;
}
}  // namespace

// Issue #13 finding 7: a learner SIGKILLed (with its supervisor) after publishing versions
// its last checkpoint does not know, resumed into a new segment, must not publish those
// versions again: the evaluator and the actors' version stamps take versions to only grow.
TEST_CASE(
    "weight versions never go back across a learner + supervisor SIGKILL and a resume into a new "
    "segment",
    "[launch][safety]") {
  LaunchedRun run;
  // No checkpoint before the kill: everything published is unknown to the checkpoints.
  std::string tiny = rz::testing::kTinyRun;
  tiny.replace(tiny.find("--learner.checkpoint_every 10"), 29,
               "--learner.checkpoint_every 1000000");
  const CommandResult started = rz::testing::run_command(
      rz::testing::kLaunch + " start --detach --actors 2 --eval.enabled false --run-dir " +
      run.quoted_dir() + tiny);
  INFO(started.output);
  REQUIRE(started.code == 0);
  const pid_t supervisor = run.pid_of("launch");
  const pid_t learner = run.pid_of("learner");
  REQUIRE(
      wait_until([&] { return run.snapshot()["learner"]["published_version"].num() >= 3; }, 90s));
  // The supervisor frozen (it restarts nothing), the learner killed without a last word,
  // then the supervisor killed: what a machine-wide kill or an OOM kill of both leaves.
  REQUIRE(::kill(supervisor, SIGSTOP) == 0);
  REQUIRE(::kill(learner, SIGKILL) == 0);
  REQUIRE(wait_until([&] { return !process_alive(learner); }, 20s));
  const uint64_t before =
      static_cast<uint64_t>(run.snapshot()["learner"]["published_version"].num());
  REQUIRE(::kill(supervisor, SIGKILL) == 0);
  REQUIRE(wait_until([&] { return !process_alive(supervisor); }, 20s));
  CHECK_FALSE(has_checkpoint(run.dir));
  REQUIRE(run.command("stop").code == 0);  // removes the segment: the resume makes a new one
  REQUIRE_FALSE(run.shm_exists());
  const CommandResult r = run.start("--resume");
  INFO(r.output << "\n" << run.log("learner"));
  REQUIRE(r.code == 0);
  REQUIRE(wait_until([&] { return starting_versions(run.log("learner")).size() >= 2; }, 60s));
  const std::vector<uint64_t> starts = starting_versions(run.log("learner"));
  INFO("published before the kill: " << before << ", first after the resume: " << starts.back());
  CHECK(starts.back() > before);
}

// Issue #13 finding 9: a supervisor that fails between creating its segment and its main
// loop (here: RUN/pids/launch.pid cannot be written) used to leave the segment behind.
TEST_CASE("a start that fails after its segment was created removes the segment",
          "[launch][safety]") {
  LaunchedRun run;
  fs::create_directories(run.dir + "/pids/launch.pid");  // rename onto a directory fails
  ::chmod(run.base.c_str(), 0700);
  for (const char* d : {"", "/pids", "/pids/launch.pid"}) ::chmod((run.dir + d).c_str(), 0700);
  const CommandResult r = run.start();
  INFO(r.output << "\n" << run.log("launch"));
  CHECK(r.code != 0);
  CHECK(run.log("launch").find("cannot start run") != std::string::npos);
  const std::string name = rz::default_shm_name(run.dir);
  CHECK_FALSE(fs::exists("/dev/shm" + name));
}
