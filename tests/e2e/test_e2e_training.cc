// End to end: real actors and the real learner train tic-tac-toe through real shared memory.
// The test process plays the supervisor: it creates the segment, writes RUN/config.ini and
// fork/execs the binaries.
#include <catch2/catch.hpp>

#include <numeric>

#include "common/checkpoint_file.h"
#include "learner/replay_window.h"
#include "shm/trajectory_ring.h"
#include "shm/weight_slot.h"
#include "tests/learner/process_harness.h"

using namespace rz;
using namespace rz::testing;

namespace {

void e2e_config(RunConfig& c) {
  c.net.blocks = 2;
  c.net.filters = 32;
  c.mcts.simulations = 20;
  c.actor.games_in_flight = 16;
  c.learner.batch_size = 64;
  c.learner.lr = 0.05;
  c.learner.replay_positions = 5000;
  c.learner.min_replay = 300;
  c.learner.samples_per_position = 4;
  c.learner.publish_every = 10;
  c.learner.checkpoint_every = 25;
  c.learner.metrics_seconds = 2;
}

std::vector<std::string> actor_argv(const SegmentRun& run, int slot) {
  return {RZ_BINARY_DIR "/actor/ringzero-actor",
          "--shm",
          run.config.shm.name,
          "--slot",
          std::to_string(slot),
          "--config",
          run.config_path()};
}

double actor_gauge(const SegmentRun& run, int slot, const std::string& name) {
  auto s = run.slot(shm::Role::kActor, static_cast<uint32_t>(slot));
  if (!s) return 0;
  for (auto& m : s->metrics)
    if (m.name == name) return m.gauge();
  return 0;
}

uint64_t actor_counter(const SegmentRun& run, int slot, const std::string& name) {
  auto s = run.slot(shm::Role::kActor, static_cast<uint32_t>(slot));
  return s ? s->value(name) : 0;
}

double column_mean(const std::vector<std::vector<std::string>>& rows, size_t from, size_t to,
                   int col) {
  double sum = 0;
  for (size_t i = from; i < to; ++i) sum += std::stod(rows[i][col]);
  return sum / static_cast<double>(to - from);
}

}  // namespace

TEST_CASE("tic-tac-toe: two actors and the learner train, loss falls, weights flow to actors") {
  SegmentRun run("e2e-train", "tictactoe", e2e_config);
  pid_t learner = spawn(learner_argv(run), run.dir + "/logs/learner.log");
  pid_t actors[2] = {spawn(actor_argv(run, 0), run.dir + "/logs/actor-0.log"),
                     spawn(actor_argv(run, 1), run.dir + "/logs/actor-1.log")};
  // Train until the learner has published many versions and written enough metrics rows to
  // compare early with late, or 45 s (a loaded machine gets fewer steps; the checks below
  // hold from ~100 steps on).
  wait_until(
      [&] {
        return run.learner_metric("step") >= 400 &&
               metrics_rows(run.dir + "/metrics.csv").size() >= 8;
      },
      45s);
  run.segment->control().request_stop();
  int learner_status = wait_exit(learner, 20s);
  int actor_status[2] = {wait_exit(actors[0], 20s), wait_exit(actors[1], 20s)};
  INFO(read_file(run.dir + "/logs/learner.log"));
  INFO(read_file(run.dir + "/logs/actor-0.log"));
  CHECK(learner_status == 0);
  CHECK(actor_status[0] == 0);
  CHECK(actor_status[1] == 0);

  // Rows of intervals in which the learner trained (an idle interval leaves the losses empty).
  std::vector<std::vector<std::string>> rows;
  for (auto& r : metrics_rows(run.dir + "/metrics.csv"))
    if (r.size() > 2 && !r[2].empty()) rows.push_back(r);
  REQUIRE(rows.size() >= 4);
  CHECK(run.learner_metric("step") >= 100);
  // Loss (col 2) of the first quarter of the rows against the last quarter.
  size_t q = std::max<size_t>(1, rows.size() / 4);
  double early = column_mean(rows, 0, q, 2),
         late = column_mean(rows, rows.size() - q, rows.size(), 2);
  INFO("early loss " << early << ", late loss " << late << ", rows " << rows.size());
  CHECK(late < early);
  // Weight versions rise, and every actor played with published (trained) weights.
  shm::WeightSlot slot(*run.segment);
  CHECK(slot.latest_version() > 10);
  CHECK(std::stoull(rows.back()[8]) > std::stoull(rows.front()[8]));
  for (int a = 0; a < 2; ++a) {
    INFO("actor " << a);
    CHECK(actor_gauge(run, a, "weight_version") > 1);
    CHECK(actor_counter(run, a, "records_committed") > 0);
  }
  CHECK(run.learner_metric("bad_records") == 0);
  CHECK(run.learner_metric("records_consumed") > 0);
}

TEST_CASE("tic-tac-toe: the learner is SIGKILLed mid-run, resumes, and no game is lost") {
  SegmentRun run("e2e-kill", "tictactoe", [](RunConfig& c) {
    e2e_config(c);
    c.learner.replay_positions = 1500;  // records also age out of the window
    c.learner.checkpoint_every = 20;
  });
  pid_t learner = spawn(learner_argv(run), run.dir + "/logs/learner.log");
  pid_t actors[2] = {spawn(actor_argv(run, 0), run.dir + "/logs/actor-0.log"),
                     spawn(actor_argv(run, 1), run.dir + "/logs/actor-1.log")};
  // Kill only once the window has overflowed, so eviction is exercised on every machine: a
  // tic-tac-toe game is at least 5 positions, so 320 consumed games are > 1500 positions. (A
  // step count alone was reached on a loaded machine with only 233 games: nothing evicted.)
  bool trained = wait_until(
      [&] {
        return run.learner_metric("step") >= 50 && run.learner_metric("records_consumed") >= 320;
      },
      40s);
  ::kill(learner, SIGKILL);
  ::waitpid(learner, nullptr, 0);
  // Actors keep playing into their lanes with no learner for a moment, then stop.
  wait_until([&] { return records_in_lanes(*run.segment) >= 4; }, 10s);
  ::kill(actors[0], SIGTERM);
  ::kill(actors[1], SIGTERM);
  int a0 = wait_exit(actors[0], 20s), a1 = wait_exit(actors[1], 20s);
  INFO(read_file(run.dir + "/logs/learner.log"));
  REQUIRE(trained);
  CHECK(a0 == 0);
  CHECK(a1 == 0);

  // Everything is quiet: count. Records the actors committed (their own counters, and the
  // lanes' tails) = records in the window + aged out of it + still in lanes, where a record
  // committed to the window but not yet released from its lane counts once.
  uint64_t by_actors =
      actor_counter(run, 0, "records_committed") + actor_counter(run, 1, "records_committed");
  uint64_t committed = 0, in_lanes = 0, in_both = 0;
  ReplayCounts c =
      ReplayWindow::inspect(run.segment->learner_region(), run.segment->learner_region_bytes());
  for (const auto& l : shm::lane_status(*run.segment)) {
    committed += l.records_committed;
    in_lanes += l.records_committed - l.records_consumed;
    CHECK(c.lane_next_sequence[l.lane] >= l.records_consumed);  // nothing released unstored
    in_both += c.lane_next_sequence[l.lane] - l.records_consumed;
  }
  CHECK(by_actors == committed);
  CHECK(in_lanes > 0);
  CHECK(in_both <= 1);
  CHECK(c.records_in_window + c.records_evicted + in_lanes - in_both == committed);

  uint64_t ckpt_step = read_checkpoint(latest_valid_checkpoint(run.dir)).step;
  CHECK(ckpt_step >= 40);
  learner = spawn(learner_argv(run, true), run.dir + "/logs/learner.log");
  bool drained = wait_until(
      [&] { return records_in_lanes(*run.segment) == 0 && run.learner_metric("step") > ckpt_step; },
      30s);
  const auto [status, log] = stop_and_read(run, learner);
  INFO(log);
  CHECK(drained);
  CHECK(status == 0);
  CHECK(log.find("(step " + std::to_string(ckpt_step) + ",") != std::string::npos);
  c = ReplayWindow::inspect(run.segment->learner_region(), run.segment->learner_region_bytes());
  CHECK(c.records_inserted == committed);  // each committed game stored exactly once
  CHECK(c.records_evicted > 0);
}
