// Unit tests of the supervisor's parts that need no run: the restart policy, liveness
// (zombies count as dead), the run directory's small files and the log line format.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <regex>

#include "launch/log_stamp.h"
#include "launch/process_liveness.h"
#include "launch/restart_policy.h"
#include "launch/run_dir.h"

using namespace std::chrono_literals;

namespace rz {
// Waits (bounded) until `pid` has exited and become a zombie.
static bool testing_eventually_zombie(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    if (rz::launch::process_state(pid) == 'Z') return true;
    usleep(10000);
  }
  return false;
}
}  // namespace rz
using rz::launch::RestartPolicy;

TEST_CASE("restart policy: backoff doubles for quick deaths and resets after a stable run") {
  RestartPolicy::Options o;
  o.initial_backoff = 100ms;
  o.max_backoff = 350ms;
  o.stable_after = 10s;
  o.crash_loop_limit = 100;
  RestartPolicy p(o);
  auto t = RestartPolicy::Clock::time_point{} + 1h;
  p.started(t);
  REQUIRE(p.died(t + 1s));
  CHECK(p.current_backoff() == 100ms);
  CHECK(p.next_start() == t + 1s + 100ms);
  p.started(t + 2s);
  REQUIRE(p.died(t + 3s));
  CHECK(p.current_backoff() == 200ms);
  p.started(t + 4s);
  REQUIRE(p.died(t + 5s));
  CHECK(p.current_backoff() == 350ms);  // capped
  p.started(t + 6s);
  REQUIRE(p.died(t + 60s));  // ran 54 s > stable_after: healthy, fresh sequence
  CHECK(p.current_backoff() == 100ms);
  CHECK_FALSE(p.gave_up());
}

TEST_CASE("restart policy: gives up on a crash loop, and only within the window") {
  RestartPolicy::Options o;
  o.crash_loop_limit = 3;
  o.crash_loop_window = 60s;
  RestartPolicy p(o);
  auto t = RestartPolicy::Clock::time_point{} + 1h;
  CHECK(p.died(t));
  CHECK(p.died(t + 40s));
  CHECK(p.died(t + 70s));  // the first death left the window: 2 within 60 s
  CHECK_FALSE(p.gave_up());
  CHECK_FALSE(p.died(t + 80s));  // 3 within 60 s
  CHECK(p.gave_up());
  CHECK(p.reason() == "3 exits within 60 s");
  p.reset();
  CHECK_FALSE(p.gave_up());
  CHECK(p.died(t + 81s));
}

TEST_CASE("process liveness: a zombie is dead, a live process alive, names are checked") {
  CHECK(rz::launch::process_alive(getpid()));
  CHECK_FALSE(rz::launch::process_alive(getpid(), "surely-not-this"));
  const pid_t child = fork();
  if (child == 0) _exit(0);
  REQUIRE(child > 0);
  // Until reaped the child is a zombie: kill(pid, 0) succeeds, but it is not alive.
  REQUIRE(rz::testing_eventually_zombie(child));
  CHECK(kill(child, 0) == 0);
  CHECK_FALSE(rz::launch::process_alive(child));
  CHECK(rz::launch::process_state(child) == 'Z');
  waitpid(child, nullptr, 0);
  CHECK_FALSE(rz::launch::process_alive(child));
  CHECK(rz::launch::process_state(child) == 0);
}

TEST_CASE("run directory: role records and pid files round-trip; garbage reads as nothing") {
  const auto base = std::filesystem::temp_directory_path() / ("rz-rundir-" + std::to_string(getpid()));
  rz::launch::RunDir dir(base.string());
  dir.create_layout();
  rz::launch::write_role_records(dir, {{"actor-0", 123, 2, "running", ""},
                                       {"learner", 0, 5, "gave-up", "5 exits within 60 s"}});
  auto records = rz::launch::read_role_records(dir);
  REQUIRE(records.size() == 2);
  CHECK(records["actor-0"].pid == 123);
  CHECK(records["actor-0"].restarts == 2);
  CHECK(records["learner"].state == "gave-up");
  CHECK(records["learner"].note == "5 exits within 60 s");
  rz::launch::write_text_atomically(dir.pid_file("launch"), "4242\n");
  CHECK(rz::launch::read_pid_file(dir.pid_file("launch")) == 4242);
  rz::launch::write_text_atomically(dir.pid_file("launch"), "not a pid\n");
  CHECK(rz::launch::read_pid_file(dir.pid_file("launch")) == 0);
  CHECK(rz::launch::read_pid_file(dir.pid_file("missing")) == 0);
  std::filesystem::remove_all(base);
}

TEST_CASE("log lines carry an ISO UTC time with milliseconds and the role") {
  const std::string line = rz::launch::stamp_line("actor-3", "hello");
  CHECK(std::regex_match(line, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z actor-3: hello\n)")));
}
