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
// SIGINT), or when the run's creator is gone (common/role_process.h); an evaluation in
// progress is abandoned between two games (no row). The heartbeat is refreshed between games and
// while idle. A restarted evaluator continues after the last version in eval.csv. It never touches
// CUDA: the NetEvaluator runs on the CPU.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "common/eval/eval_csv.h"
#include "common/run_config.h"

namespace rz {

struct AccuracyResult;
class NetEvaluator;

// eval.accuracy_positions resolved: "auto" becomes `shared_default` if that file exists,
// else ""; anything else is returned unchanged.
std::string resolve_accuracy_positions(const std::string& option,
                                       const std::string& shared_default);

// Whether a stats slot's pid may be another evaluator of this user's run still running: a
// live process this user can signal. A pid that another user's process holds now (kill
// fails with EPERM: the pid was reused after our evaluator died) is not, and neither is a
// pid with no process (ESRCH).
bool evaluator_pid_running(pid_t pid);

class LiveEvaluator {
 public:
  // `config` must name the run directory (config.run_dir; the segment defaults to the run's).
  // `accuracy_positions` is the resolved position file ("" = no accuracy test).
  // `early_middle_positions` likewise for the early/middle-game set.
  // `interrupted` is the process's stop word (common/role_process.h).
  LiveEvaluator(const RunConfig& config, std::string accuracy_positions,
                std::atomic<uint32_t>* interrupted, std::string early_middle_positions = "");
  ~LiveEvaluator();
  // Runs until stopped (see the file comment). Throws std::runtime_error (one line) on a
  // fatal problem: no segment, a network for another game, an unwritable eval.csv.
  void run();

 private:
  struct Session;  // what one run() holds, from the segment to the label sets (.cc)
  struct AccuracySet;

  // The steps of run(), in the order of the story:
  // 1. Lowers its priority, attaches to the segment, claims the stats slot, starts the watcher.
  void attach();
  // 2. The newest version if it is due for evaluation (one atomic load when none is), else 0;
  //    reads its weights and the learner's step into `row`.
  uint64_t read_due_version(EvalRow* row);
  //    Steps 3 and 4 on the weights read; false if the run stopped meanwhile (no row then).
  bool evaluate(uint64_t version, EvalRow* row);
  // 3. The arenas against rollout MCTS, the yardstick and the stronger one; fills the scores.
  void play_arenas(uint64_t version, EvalRow* row);
  // 4. Move accuracy on the Connect Four position sets; fills the accuracies.
  void measure_accuracies(uint64_t version, EvalRow* row);
  // 5. The row into eval.csv, TensorBoard, the stats slot and the log.
  void record(EvalRow* row);

  // Policy and MCTS accuracy on one set, its labels loaded (or solved) on first use.
  std::pair<AccuracyResult, AccuracyResult> measure_set(AccuracySet& set, uint64_t version);
  // A fresh NetEvaluator holding the weights read by read_due_version().
  std::unique_ptr<NetEvaluator> network() const;
  uint64_t seed_for(uint64_t version) const { return config_.seed * 1000003 + version; }
  bool stopping() const;
  // Heartbeat and stop check between units of work; throws StopRequested to abandon one.
  void checkpoint();

  RunConfig config_;
  std::string accuracy_positions_;
  std::string early_middle_positions_;
  std::atomic<uint32_t>* interrupted_;
  std::unique_ptr<Session> s_;
};

}  // namespace rz
