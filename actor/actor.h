// Actor: one self-play process of a run. Its story:
//
//   1. attach to the run's segment (shm.name) and take lane `slot` of the TrajectoryRing
//      (a lane left by a killed actor is taken over; its sequence numbers continue);
//   2. wait for the learner's first weights in the WeightSlot (version >= 1), leaving
//      cleanly if the run stops meanwhile;
//   3. play actor.games_in_flight games at once with batched MCTS (SelfPlayDriver) guided by
//      the network (NetEvaluator, one forward pass per round);
//   4. encode every finished game as one trajectory record (common/trajectory.h) and commit
//      it to the lane — blocking while the lane is full, which is the back-pressure that
//      keeps actors from outrunning the learner;
//   5. between rounds, one atomic load asks the WeightSlot for a newer version; the new
//      weights are loaded into the same evaluator and games in flight simply continue with
//      them (every position records the version its search started with);
//   6. on the control block's stop flag, SIGTERM, SIGINT, or the death of the run's
//      creator (a SIGKILLed supervisor must not leave orphans playing forever): finish the
//      current round or write, release the lane, exit 0.
//
// Everything is visible in the actor's stats slot (role kActor, index = slot): heartbeat,
// state, and counters games, positions, records_committed, simulations, bytes_committed,
// resigned_games, resign_disabled_games, resign_false_pos (resign-disabled games whose
// would-be resigner did not lose), records_too_large, weight_switches, lane_wait_ms (time
// blocked on a full lane: back-pressure from the learner); gauges weight_version,
// positions_per_s, sims_per_s. The heartbeat stays fresh while blocked on a full lane.
//
// A game's id is its lane sequence number, so ids are unique per slot across restarts and
// equal the ring's own record numbering.
//
// The actor never touches CUDA: it sees LibTorch only through the torch-free NetEvaluator
// header and runs on actor.threads CPU threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/run_config.h"

namespace rz {

// Thrown for fatal, user-facing problems (segment missing, slot out of range, weights of
// another network); the message is one line naming the problem and the fix.
struct ActorError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Actor {
 public:
  // `interrupted` is set (to nonzero) by the process's signal handler; the actor treats it
  // like the run's stop flag.
  Actor(const RunConfig& config, uint32_t slot, std::atomic<uint32_t>* interrupted);

  // Runs the story above until stop. Returns normally on a clean stop; throws ActorError
  // (or ShmError/WeightBlobError, both one-line) on a fatal problem.
  void run();

 private:
  const RunConfig config_;
  const uint32_t slot_;
  std::atomic<uint32_t>* interrupted_;
};

// Installs SIGTERM/SIGINT handlers (no SA_RESTART, so blocking waits wake up) that store 1
// into *flag and do nothing else.
void install_stop_signal_handlers(std::atomic<uint32_t>* flag);

}  // namespace rz
