// The live evaluator: the `eval` role of a run (`ringzero-eval live`). It watches the
// WeightSlot and measures each new network (or every k-th) while training goes on:
//
//   1. attach to the run's segment and claim the stats slot (role kEvaluator, index 0); lower
//      its own priority (nice 10) and run LibTorch/BLAS on one thread, so that it only takes
//      CPU the actors and the learner leave over;
//   2. once a second, one atomic load asks the WeightSlot for its newest version; the first
//      version seen, and then any version at least eval.every_versions past the last one
//      evaluated, is copied out and loaded into fresh NetEvaluators (the blob header says the
//      network's shape);
//   3. the arena: eval.games games, colours alternating, of MCTS guided by the network
//      (eval.sims simulations, no root noise, most visited move) against plain MCTS with
//      random rollouts (eval.opponent_sims), the fixed yardstick of docs/evaluation.md; then,
//      if eval.strong_opponent_sims > 0 (the default for games without a solver set), as many
//      games against a stronger rollout MCTS; both scored overall and per colour;
//   4. on Connect Four, move accuracy on the first eval.accuracy_limit positions of
//      eval.accuracy_positions, for the raw policy and for MCTS, against labels solved once
//      and cached in RUN/eval/labels-<file>; and the same on the first eval.early_middle_limit
//      positions of the early/middle-game set (eval.early_middle_positions), whose labels come
//      from the cache shipped beside it (<file>.labels, copied into RUN/eval/) when there is one;
//   5. the results go to the stats slot (gauges eval_version, eval_score, eval_win_rate,
//      eval_elo, eval_accuracy_policy, eval_accuracy_mcts, eval_early_policy,
//      eval_early_mcts (optimal-move fractions), eval_strong_score; counter evaluations)
//      and as one row to RUN/eval.csv (eval_csv.h), with the learner's step counter at the
//      time the weights were read.
//
// It exits (run() returns) on the control block's stop flag, on `interrupted` (SIGTERM /
// SIGINT), or when the run's creator is gone; an evaluation in progress is abandoned between
// two games (no row). The heartbeat is refreshed between games and while idle. A restarted
// evaluator continues after the last version in eval.csv. It never touches CUDA: the
// NetEvaluator runs on the CPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/run_config.h"

namespace rz {

// eval.accuracy_positions resolved: "auto" becomes `shared_default` if that file exists,
// else ""; anything else is returned unchanged.
std::string resolve_accuracy_positions(const std::string& option,
                                       const std::string& shared_default);

class LiveEvaluator {
 public:
  // `config` must name the run directory and the segment (config.run_dir, config.shm.name).
  // `accuracy_positions` is the resolved position file ("" = no accuracy test).
  // `early_middle_positions` likewise for the early/middle-game set.
  LiveEvaluator(const RunConfig& config, std::string accuracy_positions,
                const std::atomic<uint32_t>* interrupted, std::string early_middle_positions = "");
  // Runs until stopped (see the file comment). Throws std::runtime_error (one line) on a
  // fatal problem: no segment, a network for another game, an unwritable eval.csv.
  void run();

 private:
  RunConfig config_;
  std::string accuracy_positions_;
  std::string early_middle_positions_;
  const std::atomic<uint32_t>* interrupted_;
};

}  // namespace rz
