// `ringzero-eval live`, the run's evaluator role, as the supervisor runs it: a real process
// attached to a real segment, fed real weight blobs through the WeightSlot, writing a real
// RUN/eval.csv and its stats slot, stopped by the run's stop flag or SIGTERM.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/eval/eval_csv.h"
#include "common/eval/live_evaluator.h"
#include "common/net/net_evaluator.h"
#include "launch/run_snapshot.h"
#include "shm/weight_slot.h"
#include "tests/learner/process_harness.h"

namespace {

using rz::testing::SegmentRun;
using namespace std::chrono_literals;

std::vector<std::string> live_argv(const SegmentRun& run, std::vector<std::string> extra = {}) {
  return rz::testing::run_argv(run, {RZ_BINARY_DIR "/common/eval/ringzero-eval", "live"}, extra);
}

// Small arenas: `games` games at `sims` simulations a side, an evaluation every
// `every_versions` versions.
void small_arenas(rz::RunConfig& c, int games, int sims, int every_versions) {
  c.eval.games = games;
  c.eval.sims = sims;
  c.eval.opponent_sims = sims;
  c.eval.every_versions = every_versions;
}

// Publishes a fresh network (torch's default initialisation, seeded) as the learner would.
uint64_t publish_fresh_network(SegmentRun& run, uint64_t seed) {
  const auto game = rz::make_game(run.config.game);
  rz::NetEvaluator net(*game, run.config.net, 8, 1, seed);
  const std::vector<uint8_t> blob = net.blob();
  return rz::shm::WeightSlot(*run.segment).publish(blob.data(), blob.size(), net.layout_tag());
}

std::optional<double> evaluator_gauge(const SegmentRun& run, const std::string& name) {
  auto slot = run.slot(rz::shm::Role::kEvaluator, 0);
  if (!slot) return std::nullopt;
  for (const auto& m : slot->metrics)
    if (m.name == name) return m.gauge();
  return std::nullopt;
}

// Data rows of RUN/eval.csv split into fields, empty trailing fields kept.
std::vector<std::vector<std::string>> eval_rows(const SegmentRun& run) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(rz::testing::read_file(run.dir + "/eval.csv"));
  std::string line;
  for (bool header = true; std::getline(in, line); header = false) {
    if (header) continue;
    std::vector<std::string> fields(1);
    for (char c : line) {
      if (c == ',')
        fields.emplace_back();
      else
        fields.back() += c;
    }
    rows.push_back(fields);
  }
  return rows;
}

std::string log_of(const SegmentRun& run) {
  return rz::testing::read_file(run.dir + "/logs/eval.log");
}

// The checks every row must pass: the game counts add up and the rates follow from them.
void check_row(const std::vector<std::string>& f, uint64_t version, uint64_t step, int games) {
  REQUIRE(f.size() == 24);
  CHECK(std::stod(f[0]) > 1.7e9);
  CHECK(std::stoull(f[1]) == step);
  CHECK(std::stoull(f[2]) == version);
  const int n = std::stoi(f[3]), w = std::stoi(f[4]), d = std::stoi(f[5]), l = std::stoi(f[6]);
  CHECK(n == games);
  CHECK(w + d + l == games);
  CHECK(std::stod(f[7]) == Approx(double(w) / games).margin(1e-4));
  CHECK(std::stod(f[8]) == Approx((w + d / 2.0) / games).margin(1e-4));
  // Colours alternate: half the games as each colour, and the score is their mean.
  if (games % 2 == 0) {
    CHECK((std::stod(f[18]) + std::stod(f[19])) / 2 == Approx(std::stod(f[8])).margin(1e-3));
  }
}

}  // namespace

TEST_CASE("live evaluator: a row per new version, stats slot, stop flag, restart, SIGTERM",
          "[eval][multiprocess]") {
  SegmentRun run("live-eval", "tictactoe", [](rz::RunConfig& c) { small_arenas(c, 4, 16, 1); });
  // The learner's stats slot, as the learner keeps it: the evaluator reads `step` there.
  rz::shm::StatsWriter learner(*run.segment, rz::shm::Role::kLearner, 0);
  const int step = learner.metric("step");
  learner.set(step, 120);
  REQUIRE(publish_fresh_network(run, 1) == 1);

  const std::string log = run.dir + "/logs/eval.log";
  pid_t pid = rz::testing::spawn(live_argv(run), log);
  REQUIRE(rz::testing::wait_until([&] { return eval_rows(run).size() == 1; }, 30s));
  INFO(log_of(run));
  check_row(eval_rows(run)[0], 1, 120, 4);
  CHECK(eval_rows(run)[0][10].empty());  // no accuracy test for tic-tac-toe
  // ... but a second arena against rollout MCTS-1000 (the default without a solver set).
  CHECK(eval_rows(run)[0][20] == "1000");
  CHECK(std::stod(eval_rows(run)[0][21]) >= 0.0);
  CHECK(std::stod(eval_rows(run)[0][21]) <= 1.0);
  REQUIRE(rz::testing::wait_until([&] { return evaluator_gauge(run, "eval_version") == 1.0; }, 5s));
  {  // A second evaluator for the same run is refused: it would share the stats slot.
    const std::string second_log = run.dir + "/logs/eval-second.log";
    const pid_t second = rz::testing::spawn(live_argv(run), second_log);
    CHECK(rz::testing::wait_exit(second, 10s) == 1);
    CHECK(
        rz::testing::read_file(second_log).find("another evaluator (pid " + std::to_string(pid)) !=
        std::string::npos);
  }
  const double score = *evaluator_gauge(run, "eval_score");
  CHECK(score == Approx(std::stod(eval_rows(run)[0][8])).margin(1e-4));
  {  // The monitor shows the evaluator's last result on the learner's line.
    const rz::launch::RunSnapshot snapshot = rz::launch::take_snapshot(*run.segment, run.dir);
    CHECK(snapshot.learner.eval_version == 1.0);
    CHECK(snapshot.learner.eval_score == score);
  }
  CHECK(run.slot(rz::shm::Role::kEvaluator, 0)->value("evaluations") == 1);

  learner.set(step, 130);
  REQUIRE(publish_fresh_network(run, 2) == 2);
  REQUIRE(rz::testing::wait_until([&] { return eval_rows(run).size() == 2; }, 30s));
  check_row(eval_rows(run)[1], 2, 130, 4);
  REQUIRE(rz::testing::wait_until([&] { return evaluator_gauge(run, "eval_version") == 2.0; }, 5s));

  run.segment->control().request_stop();
  CHECK(rz::testing::wait_exit(pid, 10s) == 0);
  CHECK(run.slot(rz::shm::Role::kEvaluator, 0)->state == rz::shm::ProcessState::kExited);

  // A restarted evaluator carries on after the last row: v2 is not evaluated again, v3 is,
  // and the header is not repeated. SIGTERM stops it cleanly too.
  run.segment->control().stop.store(0);
  pid = rz::testing::spawn(live_argv(run), log);
  REQUIRE(publish_fresh_network(run, 3) == 3);
  REQUIRE(rz::testing::wait_until([&] { return eval_rows(run).size() == 3; }, 30s));
  check_row(eval_rows(run)[2], 3, 130, 4);
  ::kill(pid, SIGTERM);
  CHECK(rz::testing::wait_exit(pid, 10s) == 0);
  const std::string csv = rz::testing::read_file(run.dir + "/eval.csv");
  CHECK(csv.rfind(std::string(rz::kEvalCsvHeader) + "\n", 0) == 0);
  CHECK(csv.find("time,", 1) == std::string::npos);
  CHECK(eval_rows(run).size() == 3);
  CHECK(run.slot(rz::shm::Role::kEvaluator, 0)->value("evaluations") == 3);
  CHECK(log_of(run).find("continuing after it") != std::string::npos);
}

TEST_CASE("live evaluator: every_versions skips versions between evaluations",
          "[eval][multiprocess]") {
  SegmentRun run("live-every", "tictactoe", [](rz::RunConfig& c) { small_arenas(c, 2, 8, 3); });
  REQUIRE(publish_fresh_network(run, 1) == 1);
  pid_t pid = rz::testing::spawn(live_argv(run), run.dir + "/logs/eval.log");
  REQUIRE(rz::testing::wait_until([&] { return eval_rows(run).size() == 1; }, 30s));
  publish_fresh_network(run, 2);
  publish_fresh_network(run, 3);
  // v2 and v3 are fewer than 3 versions past v1: give the evaluator time to (wrongly) take them.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  CHECK(eval_rows(run).size() == 1);
  publish_fresh_network(run, 4);
  REQUIRE(rz::testing::wait_until([&] { return eval_rows(run).size() == 2; }, 30s));
  CHECK(eval_rows(run)[1][2] == "4");
  run.segment->control().request_stop();
  CHECK(rz::testing::wait_exit(pid, 10s) == 0);
}

TEST_CASE("live evaluator: Connect Four move accuracy with a label cache in the run",
          "[eval][multiprocess]") {
  SegmentRun run("live-c4", "connect4", [](rz::RunConfig& c) {
    c.net.blocks = 1;
    c.net.filters = 8;
    small_arenas(c, 2, 8, 1);
    c.eval.accuracy_positions = RZ_SHARED_DATA "/connect4/Test_L3_R1";
    c.eval.accuracy_limit = 20;
    c.eval.early_middle_limit = 20;   // "auto": the checkout's tests/data/connect4_early_middle
    c.eval.strong_opponent_sims = 0;  // Connect Four's default (this harness sets no game defaults)
  });
  REQUIRE(publish_fresh_network(run, 1) == 1);
  pid_t pid = rz::testing::spawn(live_argv(run), run.dir + "/logs/eval.log");
  REQUIRE(rz::testing::wait_until([&] { return eval_rows(run).size() == 1; }, 30s));
  INFO(log_of(run));
  const auto row = eval_rows(run)[0];
  check_row(row, 1, 0, 2);
  for (int column = 10; column < 18; ++column) {
    REQUIRE_FALSE(row[column].empty());
    CHECK(std::stod(row[column]) >= 0.0);
    CHECK(std::stod(row[column]) <= 1.0);
  }
  // keeps-result is the weaker test: never below the optimal-move fraction.
  CHECK(std::stod(row[10]) >= std::stod(row[11]));
  CHECK(std::stod(row[12]) >= std::stod(row[13]));
  CHECK(std::stod(row[14]) >= std::stod(row[15]));
  CHECK(std::stod(row[16]) >= std::stod(row[17]));
  CHECK(row[20].empty());  // strong_opponent_sims 0: no second arena, empty fields
  CHECK(std::filesystem::exists(run.dir + "/eval/labels-Test_L3_R1"));
  // The early/middle set's labels come from the cache shipped beside it: nothing solved.
  CHECK(std::filesystem::exists(run.dir + "/eval/labels-connect4_early_middle"));
  CHECK(log_of(run).find("labels read from cache '" + run.dir +
                         "/eval/labels-connect4_early_middle'") != std::string::npos);
  REQUIRE(rz::testing::wait_until([&] { return evaluator_gauge(run, "eval_version") == 1.0; }, 5s));
  CHECK(*evaluator_gauge(run, "eval_accuracy_mcts") == Approx(std::stod(row[13])).margin(1e-4));
  CHECK(*evaluator_gauge(run, "eval_early_policy") == Approx(std::stod(row[15])).margin(1e-4));
  CHECK(*evaluator_gauge(run, "eval_early_mcts") == Approx(std::stod(row[17])).margin(1e-4));
  ::kill(pid, SIGTERM);
  CHECK(rz::testing::wait_exit(pid, 10s) == 0);
}

TEST_CASE("live evaluator: refuses a missing segment in one line", "[eval][multiprocess]") {
  const rz::testing::TempDir dir("live-bad");
  const std::string log = dir.file("eval.log");
  const pid_t pid = rz::testing::spawn(
      {RZ_BINARY_DIR "/common/eval/ringzero-eval", "live", "--shm", "/rz-no-such-segment-xyz",
       "--run-dir", dir.path(), "--game", "tictactoe"},
      log);
  CHECK(rz::testing::wait_exit(pid, 10s) == 1);
  const std::string text = rz::testing::read_file(log);
  CHECK(text.find("rz-no-such-segment-xyz") != std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  CHECK_FALSE(std::filesystem::exists(dir.file("eval.csv")));
}

// Issue #13 item 9: the evaluator's "is another evaluator running?" check counted EPERM as
// alive, so a dead evaluator's pid reused by another user's process refused every restart.
// A real process of another user: as root, a child drops to `nobody` and asks about its
// root-owned parent (EPERM from kill); as another user, pid 1 is root's.
TEST_CASE("live evaluator: a slot pid held by another user's process is not a running evaluator",
          "[eval]") {
  CHECK(rz::evaluator_pid_running(::getpid()));
  CHECK_FALSE(rz::evaluator_pid_running(0));
  if (::geteuid() != 0) {
    struct stat init {};
    REQUIRE(::stat("/proc/1", &init) == 0);
    if (init.st_uid == ::geteuid()) {
      WARN("pid 1 is this user's (a user namespace) and no other user can be made: not checked");
      return;
    }
    REQUIRE(::kill(1, 0) == -1);
    REQUIRE(errno == EPERM);
    CHECK_FALSE(rz::evaluator_pid_running(1));
    return;
  }
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    const bool eperm = ::kill(parent, 0) == -1 && errno == EPERM;
    if (!eperm) ::_exit(4);
    // Another user's live process: not our evaluator. Our own: running.
    ::_exit(!rz::evaluator_pid_running(parent) && rz::evaluator_pid_running(::getpid()) ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  INFO("child exit status " << WEXITSTATUS(status) << " (3: could not become nobody, 4: no EPERM)");
  CHECK(WEXITSTATUS(status) == 0);
}
