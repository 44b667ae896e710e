// RunSnapshot: everything `status` and the monitor show about a run, read without changing
// anything: the segment mapped READ-ONLY (stats slots, control block, lane counters) plus the
// supervisor's files in the run directory (pids, restart counts, why a role was given up).
//
// `alive` is never taken from a pid alone: a process counts as alive when /proc says it
// exists and is not a zombie, and its command name is a ringzero one (pids are reused).
//
// Metric names (stats slots, shm/stats.h) the snapshot reads, as the constants of
// common/stat_names.h that the processes publish them under:
//   actor   games, positions, records_committed, simulations, weight_version (gauge),
//           positions_per_s, sims_per_s (gauges), eval_lookups, eval_saved (evaluation
//           cache), eval_cache_hit_rate, precision_bf16 (gauges: 0 fp32, 1 bf16)
//   learner step, published_version, records_consumed, replay_positions, samples_trained,
//           loss_policy, loss_value (gauges), device_cuda (0 = cpu, 1 = cuda)
//   evaluator any metrics (shown by name); evaluator 0 is the run's own (`ringzero-eval
//           live`, role "eval" in RUN/pids/roles); its eval_version and eval_score
//           (gauges, once an evaluation ran) are also shown on the learner's line.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "launch/run_dir.h"
#include "launch/scale_snapshot.h"
#include "shm/segment.h"

namespace rz::launch {

// What every row of a supervised process shows: who it is, whether it lives, what it says.
struct ProcessRow {
  pid_t pid = 0;
  bool alive = false;
  std::string state;  // from the stats slot (starting/running/...) or the supervisor's view
  double heartbeat_age_s = -1;  // -1: never reported
  uint32_t restarts = 0;
  std::string note;  // e.g. why the supervisor gave up on it
};

struct ActorRow : ProcessRow {
  uint32_t slot = 0;
  uint64_t games = 0, positions = 0, records_committed = 0, simulations = 0;
  uint64_t weight_version = 0;
  // The actor's own rate gauges, or (live monitor) rates over the last interval.
  double positions_per_s = 0, simulations_per_s = 0;
  // Evaluation cache: leaves looked up and answered without a forward pass; the hit rate is
  // the actor's cumulative gauge, or (live monitor) the rate over the last interval.
  uint64_t eval_lookups = 0, eval_saved = 0;
  double eval_cache_hit_rate = 0;
  std::string precision = "-";  // "fp32", "bf16", or "-" before the actor said
};

struct LearnerRow : ProcessRow {
  uint64_t step = 0, published_version = 0, records_consumed = 0, replay_positions = 0;
  uint64_t samples = 0;
  std::optional<double> loss_policy, loss_value;
  std::string device = "unknown";
  double samples_per_s = 0;
  // Evaluator 0's last result (the version it judged and its score), not the learner's own.
  std::optional<double> eval_version, eval_score;
};

// A process in an evaluator stats slot (role kEvaluator): whatever it publishes.
struct EvaluatorRow : ProcessRow {
  uint32_t index = 0;
  std::vector<std::pair<std::string, double>> metrics;
};

struct LaneRow {
  uint32_t lane = 0;
  uint64_t records_in_flight = 0, bytes_in_flight = 0, records_committed = 0;
  double fill = 0;  // bytes_in_flight / lane_bytes
};

struct RunSnapshot {
  std::string run_dir, shm_name, game;
  uint64_t generation = 0;
  double uptime_s = 0;
  pid_t supervisor_pid = 0;
  bool supervisor_alive = false;
  bool stop_requested = false;
  std::vector<ActorRow> actors;
  LearnerRow learner;
  std::vector<EvaluatorRow> evaluators;  // empty unless an evaluator runs
  std::vector<LaneRow> lanes;
  uint64_t records_in_flight = 0, bytes_in_flight = 0, records_committed = 0;
  double records_per_s = 0;  // ring throughput (committed), when has_rates
  uint64_t steady_ns = 0;    // CLOCK_MONOTONIC time of the snapshot
  bool has_rates = false;    // compute_rates() filled samples_per_s and records_per_s
  ScaleSnapshot scale;       // hosts / ingest (learner host) or relay (actor host)
};

// Reads `segment` (may be a read-only mapping) and, if non-empty, the run directory.
RunSnapshot take_snapshot(const shm::Segment& segment, const std::string& run_dir);
// Fills the rate fields of `now` from the counter differences to `before`.
void compute_rates(const RunSnapshot& before, RunSnapshot* now);

// One JSON object (the fields the command-line contract names, and more).
std::string snapshot_json(const RunSnapshot& snapshot);
// A compact table for a terminal; `ansi` highlights stale heartbeats and dead processes.
std::string snapshot_table(const RunSnapshot& snapshot, bool ansi);

// "key=value" lines of a segment's run_info (written by the supervisor).
std::string run_info_value(const std::string& run_info, const std::string& key);

}  // namespace rz::launch
