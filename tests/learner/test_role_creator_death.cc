// The one answer to "the supervisor died" (common/role_process.h), checked on real processes
// for the roles beyond the actor (tests/actor has its own case): a stand-in supervisor creates
// the segment, the role attaches, the stand-in is SIGKILLed. The role is NOT its child, so no
// parent-death signal can help: only the RunWatcher's probe of the creator's robust mutex can
// stop it. It must stop by itself, cleanly (exit 0), and say why.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "shm/segment.h"
#include "shm/stats.h"
#include "tests/learner/process_harness.h"

namespace {

using rz::testing::SegmentRun;
using namespace std::chrono_literals;

// Replaces the test's own segment by one that a forked stand-in supervisor creates and holds
// until it is killed. Returns the stand-in's pid.
pid_t hand_segment_to_stand_in(SegmentRun& run) {
  const rz::shm::SegmentSizes sizes = run.segment->sizes();
  const std::string name = run.config.shm.name;
  run.segment.reset();
  rz::shm::Segment::remove(name);
  const pid_t creator = ::fork();
  REQUIRE(creator >= 0);
  if (creator == 0) {
    std::unique_ptr<rz::shm::Segment> held;
    try {
      held = rz::shm::Segment::create(name, sizes, "supervisor stand-in");
    } catch (...) {
      ::_exit(3);
    }
    for (;;) ::pause();  // lives, holding the creator mutex, until SIGKILLed
  }
  REQUIRE(rz::testing::wait_until([&] { return rz::shm::Segment::creator_alive(name); }, 10s));
  run.segment = rz::shm::Segment::open(name);  // removed by ~SegmentRun
  return creator;
}

bool running(const SegmentRun& run, rz::shm::Role role) {
  const auto slot = run.slot(role, 0);
  return slot && slot->state == rz::shm::ProcessState::kRunning;
}

// Kills the stand-in and expects `pid` to leave by itself with status 0, saying why in `log`.
void kill_creator_and_expect_clean_exit(pid_t creator, pid_t pid, const std::string& log) {
  ::kill(creator, SIGKILL);
  ::waitpid(creator, nullptr, 0);
  const int status = rz::testing::wait_exit(pid, 15s);
  const std::string text = rz::testing::read_file(log);
  INFO(text);
  CHECK(status == 0);
  CHECK(text.find("the run's creator (pid " + std::to_string(creator) + ") is gone: stopping") !=
        std::string::npos);
}

}  // namespace

TEST_CASE("learner: stops by itself, cleanly, when the run's creator is SIGKILLed",
          "[learner][multiprocess]") {
  SegmentRun run("role-learner");
  const pid_t creator = hand_segment_to_stand_in(run);
  const std::string log = run.dir + "/logs/learner.log";
  const pid_t pid = rz::testing::spawn(rz::testing::learner_argv(run), log);
  REQUIRE(rz::testing::wait_until([&] { return running(run, rz::shm::Role::kLearner); }, 60s));
  kill_creator_and_expect_clean_exit(creator, pid, log);
  CHECK(run.slot(rz::shm::Role::kLearner, 0)->state == rz::shm::ProcessState::kExited);
}

TEST_CASE("live evaluator: stops by itself, cleanly, when the run's creator is SIGKILLed",
          "[eval][multiprocess]") {
  SegmentRun run("role-eval");
  const pid_t creator = hand_segment_to_stand_in(run);
  const std::string log = run.dir + "/logs/eval.log";
  const pid_t pid =
      rz::testing::spawn({RZ_BINARY_DIR "/common/eval/ringzero-eval", "live", "--shm",
                          run.config.shm.name, "--run-dir", run.dir, "--config", run.config_path()},
                         log);
  REQUIRE(rz::testing::wait_until([&] { return running(run, rz::shm::Role::kEvaluator); }, 60s));
  kill_creator_and_expect_clean_exit(creator, pid, log);
  CHECK(run.slot(rz::shm::Role::kEvaluator, 0)->state == rz::shm::ProcessState::kExited);
}
