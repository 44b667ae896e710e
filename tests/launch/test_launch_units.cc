// Unit tests of the supervisor's parts that need no run: the restart policy, liveness
// (zombies count as dead), the run directory's small files and the log line format.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "common/command_line.h"
#include "common/config.h"
#include "common/error.h"
#include "launch/command_support.h"
#include "launch/log_stamp.h"
#include "launch/process_liveness.h"
#include "launch/restart_policy.h"
#include "launch/run_dir.h"
#include "launch/run_snapshot.h"
#include "launch/stats_snapshot.h"
#include "shm/segment.h"
#include "shm/stats.h"
#include "tests/launch/launch_test_util.h"

using namespace std::chrono_literals;

// The repository root: tests/launch/ (this source's folder) -> ../..
const std::string kRepoRoot =
    std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().string();
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

TEST_CASE("restart policy: gives up on a crash loop but only within the window") {
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

TEST_CASE("process liveness: a zombie is dead - a live process alive - names are checked") {
  CHECK(rz::launch::process_alive(getpid()));
  CHECK_FALSE(rz::launch::process_alive(getpid(), "surely-not-this"));
  const pid_t child = fork();
  if (child == 0) _exit(0);
  REQUIRE(child > 0);
  // Until reaped the child is a zombie: kill(pid, 0) succeeds, but it is not alive.
  REQUIRE(rz::testing::wait_until([&] { return rz::launch::process_state(child) == 'Z'; }, 2s));
  CHECK(kill(child, 0) == 0);
  CHECK_FALSE(rz::launch::process_alive(child));
  CHECK(rz::launch::process_state(child) == 'Z');
  waitpid(child, nullptr, 0);
  CHECK_FALSE(rz::launch::process_alive(child));
  CHECK(rz::launch::process_state(child) == 0);
}

TEST_CASE("run directory: role records and pid files round-trip - garbage reads as nothing") {
  const rz::testing::TempDir base("rundir");
  rz::launch::RunDir dir(base.path());
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
}

TEST_CASE(
    "run directory: the generation file must hold a number - shell quoting of printed paths") {
  const rz::testing::TempDir base("gen");
  const rz::launch::RunDir dir(base.path());
  CHECK(rz::launch::read_generation(dir) == 0);  // missing: a fresh run
  rz::launch::write_text_atomically(dir.generation_file(), "7\n");
  CHECK(rz::launch::read_generation(dir) == 7);
  for (const char* garbage :
       {"garbage\n", "", "0\n", "-3\n", "12x\n", "99999999999999999999999\n"}) {
    INFO(garbage);
    rz::launch::write_text_atomically(dir.generation_file(), garbage);
    try {
      rz::launch::read_generation(dir);
      FAIL("accepted");
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      CHECK(what.find(dir.generation_file()) != std::string::npos);
      CHECK(what.find("not a generation number") != std::string::npos);
      CHECK(what.find('\n') == std::string::npos);
    }
  }

  CHECK(rz::launch::shell_quote("/work/runs/c4-60") == "/work/runs/c4-60");
  CHECK(rz::launch::shell_quote("/tmp/my run") == "/tmp/my\\ run");
  CHECK(rz::launch::shell_quote("it's") == "it\\'s");
  CHECK(rz::launch::shell_quote("") == "''");
  // What bash makes of it is the original word.
  const auto echoed =
      rz::testing::run_command("printf '%s' " + rz::launch::shell_quote("/tmp/a b$c'd"));
  CHECK(echoed.output == "/tmp/a b$c'd");
}

TEST_CASE("log lines carry an ISO UTC time with milliseconds and the role") {
  const std::string line = rz::launch::stamp_line("actor-3", "hello");
  CHECK(std::regex_match(line,
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z actor-3: hello\n)")));
}

TEST_CASE(
    "command line: --name VALUE and --name=VALUE read alike - a missing value is a UserError") {
  const char* words[] = {"--run-dir", "a b", "--timeout=7", "-h", "--x=", "--interval"};
  std::vector<char*> argv;
  for (const char* w : words) argv.push_back(const_cast<char*>(w));
  rz::ArgCursor arg(static_cast<int>(argv.size()), argv.data());
  REQUIRE(arg.next());
  CHECK(arg.name() == "--run-dir");
  CHECK(arg.value() == "a b");
  REQUIRE(arg.next());
  CHECK(arg.name() == "--timeout");
  CHECK(arg.raw() == "--timeout=7");
  CHECK(arg.value() == "7");
  REQUIRE(arg.next());
  CHECK(arg.name() == "-h");
  REQUIRE(arg.next());
  CHECK(arg.name() == "--x");
  CHECK(arg.value().empty());
  REQUIRE(arg.next());
  CHECK(arg.name() == "--interval");
  CHECK_THROWS_AS(arg.value(), rz::UserError);
  CHECK_FALSE(arg.next());
}

TEST_CASE("exit status: bad input (UserError - UsageError - ConfigError) is 2 - anything else 1") {
  using rz::run_main;
  CHECK(run_main("t", [] { return 3; }) == 3);
  CHECK(run_main("t", []() -> int { throw rz::UserError("u"); }) == 2);
  CHECK(run_main("t", []() -> int { throw rz::launch::UsageError("u"); }) == 2);
  CHECK(run_main("t", []() -> int { throw rz::ConfigError("c"); }) == 2);
  CHECK(run_main("t", []() -> int { throw std::runtime_error("r"); }) == 1);
  // A run directory that is not private is the user's to fix.
  char pattern[] = "/tmp/rz-exit-XXXXXX";
  const std::string tree = ::mkdtemp(pattern);
  std::filesystem::permissions(tree, std::filesystem::perms::others_write,
                               std::filesystem::perm_options::add);
  CHECK_THROWS_AS(rz::launch::RunDir(tree).check_private(), rz::UserError);
  std::error_code ec;
  std::filesystem::remove_all(tree, ec);
}

TEST_CASE(
    "start and join: --actors 0 to 256 are taken - anything else is refused naming the range") {
  CHECK(rz::launch::parse_actor_count("0") == 0);
  CHECK(rz::launch::parse_actor_count("256") == 256);
  for (const char* bad : {"257", "-1", "", "2x", "12345", " 3"}) {
    INFO(bad);
    CHECK_THROWS_WITH(rz::launch::parse_actor_count(bad),
                      Catch::Contains("from 0 to 256") && Catch::Contains(bad));
  }
}

TEST_CASE("snapshot: counters - gauges and evaluator metrics from a real segment as valid JSON") {
  rz::shm::SegmentSizes sizes;
  sizes.lanes = 2;
  sizes.lane_bytes = 1 << 16;
  sizes.max_record_bytes = 1 << 12;
  sizes.weight_bytes = 1 << 12;
  sizes.stats_slots = 8;
  const std::string name = "/rz-launch-unit-" + std::to_string(getpid());
  auto segment = rz::shm::Segment::create(name, sizes, "game=tictactoe\nrun_dir=/nowhere\n");
  segment->control().generation.store(3);
  {
    rz::shm::StatsWriter actor(*segment, rz::shm::Role::kActor, 1);
    actor.add(actor.metric("games"), 12);
    actor.add(actor.metric("records_committed"), 12);
    actor.set_gauge(actor.gauge("weight_version"), 7.0);
    actor.set_state(rz::shm::ProcessState::kRunning);
    rz::shm::StatsWriter learner(*segment, rz::shm::Role::kLearner, 0);
    learner.set(learner.metric("step"), 42);
    learner.set_gauge(learner.gauge("loss_policy"), 1.25);
    learner.set_gauge(learner.gauge("device_cuda"), 0.0);
    rz::shm::StatsWriter eval(*segment, rz::shm::Role::kEvaluator, 0);
    eval.set_gauge(eval.gauge("win_rate"), 0.75);
  }
  const rz::launch::RunSnapshot s = rz::launch::take_snapshot(*segment, "");
  CHECK(s.game == "tictactoe");
  CHECK(s.run_dir == "/nowhere");
  CHECK(s.generation == 3);
  REQUIRE(s.actors.size() == 2);
  CHECK(s.actors[0].state == "absent");
  CHECK(s.actors[1].games == 12);
  CHECK(s.actors[1].weight_version == 7);  // a gauge, read as a number
  CHECK(s.actors[1].pid == getpid());
  CHECK(s.learner.step == 42);
  CHECK(s.learner.device == "cpu");
  REQUIRE(s.evaluators.size() == 1);
  CHECK(s.evaluators[0].metrics.at(0).first == "win_rate");

  const rz::testing::Json j = rz::testing::parse_json(rz::launch::snapshot_json(s));
  CHECK(j["run"]["generation"].num() == 3);
  CHECK(j["actors"][1]["records_committed"].num() == 12);
  CHECK(j["actors"][1]["weight_version"].num() == 7);
  CHECK(j["learner"]["loss_policy"].num() == 1.25);
  CHECK(j["learner"]["loss_value"].kind == rz::testing::Json::Kind::kNull);
  CHECK(j["evaluators"][0]["metrics"]["win_rate"].num() == 0.75);
  const std::string table = rz::launch::snapshot_table(s, false);
  CHECK(table.find("actor-1") != std::string::npos);
  CHECK(table.find("win_rate 0.75") != std::string::npos);
  segment.reset();
  rz::shm::Segment::remove(name);
}

TEST_CASE("launch.sh: --help lists every command and an unknown command is refused in one line") {
  const std::string script = kRepoRoot + "/launch/launch.sh";
  const auto help = rz::testing::run_command(script + " --help");
  CHECK(help.code == 0);
  for (const char* command : {"start", "status", "monitor", "restart-learner", "stop", "play",
                              "plot", "--detach", "--resume", "--checkpoint", "--weights"}) {
    CHECK(help.output.find(command) != std::string::npos);
  }
  const auto refused = rz::testing::run_command(script + " frobnicate");
  CHECK(refused.code == 2);
  CHECK(refused.output.find("unknown command 'frobnicate'") != std::string::npos);
  CHECK(std::count(refused.output.begin(), refused.output.end(), '\n') == 1);
}

TEST_CASE("launch.sh: plot and play pass their arguments on to plot.sh and ringzero-play") {
  const std::string script = kRepoRoot + "/launch/launch.sh";
  // plot: plot.sh's own usage and its one-line refusal of a directory without a run.
  const auto plot_help = rz::testing::run_command(script + " plot --help");
  CHECK(plot_help.code == 0);
  CHECK(plot_help.output.find("--out DIR") != std::string::npos);
  const auto plot_missing =
      rz::testing::run_command(script + " plot --run-dir /nonexistent/rz-run");
  CHECK(plot_missing.code != 0);
  CHECK(plot_missing.output.find("plot.sh: ") != std::string::npos);
  // play: ringzero-play of this build tree; --run-dir given, so none is added.
  const auto play = rz::testing::run_command("RZ_BUILD_DIR=" RZ_BINARY_DIR " " + script +
                                             " play --run-dir /nonexistent/rz-run");
  INFO(play.output);
  CHECK(play.code != 0);
  CHECK(play.output.find("/nonexistent/rz-run") != std::string::npos);
  CHECK(play.output.find("runs/latest") == std::string::npos);
}

TEST_CASE(
    "stats snapshot: every slot but the supervisor's round-trips - a damaged file is refused "
    "whole") {
  using rz::shm::MetricKind;
  using rz::shm::Role;
  std::vector<rz::shm::SlotSnapshot> slots(3);
  slots[0].role = Role::kSupervisor;
  slots[1].role = Role::kActor;
  slots[1].index = 3;
  slots[1].restarts = 2;
  slots[1].metrics = {{"games", MetricKind::kCounter, 12345678901234ull},
                      {"positions_per_s", MetricKind::kGauge, 0x400921fb54442d18ull}};
  slots[2].role = Role::kEvaluator;
  slots[2].metrics = {{"eval_version", MetricKind::kGauge, 0}};
  const std::string text = rz::launch::format_stats_snapshot(slots);
  const auto back = rz::launch::parse_stats_snapshot(text, "RUN/stats.snapshot");
  REQUIRE(back.size() == 2);  // the supervisor's slot is its own, never carried over
  CHECK(back[0].role == Role::kActor);
  CHECK(back[0].index == 3);
  CHECK(back[0].restarts == 2);
  REQUIRE(back[0].metrics.size() == 2);
  CHECK(back[0].value("games") == 12345678901234ull);
  CHECK(back[0].metrics[1].kind == MetricKind::kGauge);
  CHECK(back[0].metrics[1].gauge() == 3.141592653589793);
  CHECK(back[1].role == Role::kEvaluator);

  auto refused = [&](const std::string& bad, const std::string& why) {
    try {
      rz::launch::parse_stats_snapshot(bad, "RUN/stats.snapshot");
    } catch (const std::runtime_error& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.find("RUN/stats.snapshot line ") == 0);
      CHECK(message.find(why) != std::string::npos);
      CHECK(message.find('\n') == std::string::npos);
      return;
    }
    FAIL("accepted: " << bad);
  };
  refused(text.substr(0, text.size() - 4), "truncated");
  refused("something else\nend\n", "not a stats snapshot");
  refused("ringzero-stats 1\nslot actor 1 0 counter games\nend\n", "a name and a value");
  refused("ringzero-stats 1\nslot pilot 1 0\nend\n", "unknown role 'pilot'");
  refused("ringzero-stats 1\nslot actor 1 0\nslot actor 1 0\nend\n", "appears twice");

  // Saved from a real segment and seeded into a fresh one: the values come back.
  const std::string name = "/rz-test-statssnap-" + std::to_string(::getpid());
  rz::shm::Segment::remove(name);
  rz::shm::SegmentSizes sizes;
  sizes.lanes = 1;
  sizes.lane_bytes = 1 << 16;
  sizes.max_record_bytes = 4096;
  sizes.weight_bytes = 4096;
  sizes.stats_slots = 8;
  sizes.learner_region_bytes = 4096;
  const rz::testing::TempDir dir("stats");
  const std::string file = dir.file("stats.snapshot");
  {
    auto segment = rz::shm::Segment::create(name, sizes, "");
    rz::shm::StatsWriter learner(*segment, Role::kLearner, 0);
    learner.add(learner.metric("records_consumed"), 77);
    rz::shm::StatsWriter supervisor(*segment, Role::kSupervisor, 0);
    rz::launch::save_stats_snapshot(*segment, file);
  }
  rz::shm::Segment::remove(name);
  {
    auto segment = rz::shm::Segment::create(name, sizes, "");
    CHECK(rz::launch::seed_stats(*segment, rz::launch::load_stats_snapshot(file)) == 1);
    rz::shm::StatsWriter learner(*segment, Role::kLearner, 0);
    CHECK(learner.get(learner.metric("records_consumed")) == 77);
    CHECK(learner.restarts() == 0);
  }
  rz::shm::Segment::remove(name);
  std::filesystem::remove(file);
  CHECK(rz::launch::load_stats_snapshot(file).empty());  // no file: nothing to carry over
}

TEST_CASE("launch.sh: the arguments it fills in (small-machine Connect Four, play's runs/latest)") {
  // launch.sh's own logic, observed through what it execs: a build tree whose binaries only
  // print their arguments (they are newer than every source, so launch.sh builds nothing).
  const std::string& root = kRepoRoot;
  const rz::testing::TempDir tree_dir("launchsh");
  const std::string& tree = tree_dir.path();
  for (const char* binary :
       {"launch/ringzero-launch", "launch/ringzero-monitor", "actor/ringzero-actor",
        "learner/ringzero-learner", "common/eval/ringzero-eval", "common/play/ringzero-play"}) {
    const std::filesystem::path path = std::filesystem::path(tree) / binary;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << "#!/bin/sh\necho \"argv: $*\"\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  }
  auto run = [&](const std::string& args) {
    return rz::testing::run_command("RZ_BUILD_DIR=" + tree + " " + root + "/launch/launch.sh " +
                                    args);
  };
  cpu_set_t cpus;  // what nproc counts (launch.sh's test): the CPUs we may run on
  CPU_ZERO(&cpus);
  REQUIRE(sched_getaffinity(0, sizeof cpus, &cpus) == 0);
  const bool small_machine = CPU_COUNT(&cpus) <= 4;
  const std::string small =
      "--net.blocks 2 --net.filters 32 --mcts.simulations 40 --actor.games_in_flight 32";

  const auto plain = run("start --run-dir /tmp/x --detach");
  INFO(plain.output);
  CHECK(plain.code == 0);
  CHECK((plain.output.find(small) != std::string::npos) == small_machine);
  // An option the user gives wins; the others are still filled in.
  const auto own = run("--mcts.simulations=90 --run-dir /tmp/x");
  INFO(own.output);
  CHECK(own.output.find("--mcts.simulations 40") == std::string::npos);
  CHECK((own.output.find("--net.blocks 2 --net.filters 32") != std::string::npos) == small_machine);
  // Dots and Boxes gets the same settings but 100 simulations, Tic-tac-toe all but the
  // simulations (its game default, 50, stays).
  const auto boxes = run("start --game=dotsandboxes:rows=2,cols=2 --run-dir /tmp/x");
  INFO(boxes.output);
  CHECK((boxes.output.find("--net.blocks 2 --net.filters 32 --mcts.simulations 100 "
                           "--actor.games_in_flight 32") != std::string::npos) == small_machine);
  const auto ttt = run("start --game tictactoe --run-dir /tmp/x");
  INFO(ttt.output);
  CHECK((ttt.output.find("--net.blocks 2 --net.filters 32 --actor.games_in_flight 32") !=
         std::string::npos) == small_machine);
  CHECK(ttt.output.find("--mcts.simulations") == std::string::npos);
  // A config file or a resume: nothing is filled in.
  for (const char* args :
       {"start --config /tmp/c.ini --run-dir /tmp/x", "start --resume --run-dir /tmp/x"}) {
    const auto r = run(args);
    INFO(args << ": " << r.output);
    CHECK(r.output.find("--net.blocks") == std::string::npos);
    CHECK(r.output.find("argv: start") != std::string::npos);
  }

  // play: arguments passed through; runs/latest only when no network is named.
  const auto named = run("play --checkpoint /tmp/c.rzck --sims 0");
  CHECK(named.output == "argv: --checkpoint /tmp/c.rzck --sims 0\n");
  const auto by_default = run("play --color second");
  if (std::filesystem::exists(root + "/runs/latest")) {
    CHECK(by_default.output == "argv: --color second --run-dir " + root + "/runs/latest\n");
  } else {
    CHECK(by_default.code == 2);
    CHECK(by_default.output.find("play needs --run-dir DIR, --checkpoint FILE or --weights BLOB") !=
          std::string::npos);
  }
}
