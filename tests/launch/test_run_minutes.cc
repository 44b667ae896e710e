// Runs sized in time (run.minutes, `launch.sh start --minutes M`): real Tic-tac-toe runs that
// end by themselves, resume with their training time carried over, and refuse a fractional
// schedule without a length.
#include <catch2/catch.hpp>

#include <regex>

#include "common/checkpoint_file.h"
#include "launch/process_liveness.h"
#include "tests/launch/launch_test_util.h"

using namespace std::chrono_literals;
using namespace rz::testing;

namespace {

// The training seconds a checkpoint recorded.
double train_seconds_of(const std::string& path) {
  const auto sections = rz::read_checkpoint_sections(path);
  auto it = sections.find("train_seconds");
  REQUIRE(it != sections.end());
  return rz::bytes_u64(it->second, "train_seconds") / 1000.0;
}

// Waits for the run's supervisor to exit by itself; true if it did within `timeout`.
bool ends_by_itself(const LaunchedRun& run, pid_t supervisor, std::chrono::seconds timeout) {
  return wait_until([&] { return !rz::launch::process_alive(supervisor, "ringzero-launch"); },
                    timeout);
}

}  // namespace

TEST_CASE(
    "start --minutes: the run ends by itself - final checkpoint, clean stop, summary - and a "
    "resume counts on",
    "[launch]") {
  LaunchedRun run;
  const CommandResult started = run.start("--minutes 0.15");  // 9 s of training
  INFO(started.output);
  REQUIRE(started.code == 0);
  const pid_t supervisor = run.pid_of("launch");
  const std::vector<pid_t> pids = {supervisor, run.pid_of("learner"), run.pid_of("actor-0"),
                                   run.pid_of("actor-1")};
  REQUIRE(ends_by_itself(run, supervisor, 120s));
  const std::string launch_log = run.log("launch");
  INFO(launch_log << "\n" << run.log("learner"));
  for (pid_t p : pids) CHECK_FALSE(rz::launch::process_alive(p));
  CHECK_FALSE(run.shm_exists());
  CHECK(run.log("learner").find("run.minutes=0.15 of training reached") != std::string::npos);
  CHECK(launch_log.find("run stopped cleanly") != std::string::npos);
  // The summary names the final checkpoint, and that is the run's newest valid one.
  std::smatch m;
  REQUIRE(std::regex_search(
      launch_log, m,
      std::regex("run summary: (\\d+) games, (\\d+) positions, (\\d+) learner "
                 "steps, ([0-9.]+) minutes of training; final checkpoint (\\S+)")));
  CHECK(std::stoull(m[1]) > 0);
  CHECK(std::stoull(m[2]) > std::stoull(m[1]));
  CHECK(std::stoull(m[3]) > 0);
  const std::string final_checkpoint = m[5];
  CHECK(final_checkpoint == rz::latest_valid_checkpoint(run.dir));
  CHECK(rz::read_checkpoint(final_checkpoint).step == std::stoull(m[3]));
  const double first = train_seconds_of(final_checkpoint);
  const uint64_t first_step = rz::read_checkpoint(final_checkpoint).step;
  CHECK(first >= 9.0);
  CHECK(run.command("status").code == 3);
  // The length is in config.ini: a plain resume of the finished run is refused in one line
  // naming the fix; --minutes on the resume lengthens it, and the clock goes on from the
  // checkpoint's time.
  const CommandResult finished = run.start("--resume");
  INFO(finished.output);
  CHECK(finished.code == 2);
  CHECK(finished.output.find("already has") != std::string::npos);
  CHECK(finished.output.find("give a longer --minutes") != std::string::npos);
  CHECK_FALSE(run.shm_exists());
  const CommandResult resumed = run.start("--resume --minutes 0.35");
  INFO(resumed.output);
  REQUIRE(resumed.code == 0);
  const pid_t supervisor2 = run.pid_of("launch");
  REQUIRE(ends_by_itself(run, supervisor2, 120s));
  INFO(run.log("launch") << "\n" << run.log("learner"));
  std::smatch resumed_at;
  const std::string learner_log = run.log("learner");
  REQUIRE(std::regex_search(
      learner_log, resumed_at,
      std::regex(
          "resumed from \\S+ \\(step \\d+, weight version \\d+, ([0-9.]+) s of training\\)")));
  // The log prints tenths of a second: 9.011 s reads 9.0.
  CHECK(std::stod(resumed_at[1]) == Approx(first).margin(0.051));
  const std::string second = rz::latest_valid_checkpoint(run.dir);
  CHECK(train_seconds_of(second) >= 21.0);
  // (Steps need new games first: the resumed segment's replay window starts empty, so on a
  // loaded machine the second leg may end before its first step.)
  CHECK(rz::read_checkpoint(second).step >= first_step);
  CHECK(rz::testing::read_file(run.dir + "/config.ini").find("minutes=0.35") != std::string::npos);
  CHECK_FALSE(run.shm_exists());
}

TEST_CASE("a learner killed in a timed run is restarted and the run still ends by itself",
          "[launch]") {
  LaunchedRun run;
  const CommandResult started = run.start("--minutes 0.15 --learner.checkpoint_seconds 1");
  INFO(started.output);
  REQUIRE(started.code == 0);
  const pid_t supervisor = run.pid_of("launch");
  REQUIRE(wait_until([&] { return !rz::latest_valid_checkpoint(run.dir).empty(); }, 60s));
  const pid_t learner = run.pid_of("learner");
  REQUIRE(::kill(learner, SIGKILL) == 0);
  REQUIRE(ends_by_itself(run, supervisor, 120s));
  INFO(run.log("launch") << "\n" << run.log("learner"));
  CHECK(run.log("launch").find("run stopped cleanly") != std::string::npos);
  CHECK(run.log("learner").find("resumed from") != std::string::npos);
  CHECK(train_seconds_of(rz::latest_valid_checkpoint(run.dir)) >= 9.0);
  CHECK_FALSE(run.shm_exists());
}

TEST_CASE(
    "a schedule in fractions of the run without --minutes is refused in one line naming the fix",
    "[launch]") {
  LaunchedRun run;
  const CommandResult r = run.start("--learner.lr_schedule 0.66:0.002");
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK(r.output.find("learner.lr_schedule='0.66:0.002'") != std::string::npos);
  CHECK(r.output.find("--minutes M") != std::string::npos);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  CHECK_FALSE(std::filesystem::exists(run.dir + "/config.ini"));
  // With a length it is accepted; steps keep working without one.
  CommandResult ok = run.start("--minutes 0.05 --learner.lr_schedule 0.5:0.002");
  INFO(ok.output);
  CHECK(ok.code == 0);
  REQUIRE(ends_by_itself(run, run.pid_of("launch"), 120s));
  CHECK(run.log("launch").find("run summary:") != std::string::npos);
}
