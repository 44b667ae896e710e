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
//      creator (a SIGKILLed supervisor must not leave orphans playing forever; one answer
//      for every role, common/role_process.h): finish the current round or write, release
//      the lane, exit 0.
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
#include <memory>
#include <string>

#include "common/run_config.h"

namespace rz {

// Thrown for fatal problems of the run's setup (segment missing, slot out of range, weights of
// another network); the message is one line naming the problem and the fix. Not a UserError:
// ringzero-actor documents exit status 1 for them (2 is for its command line and config).
struct ActorError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Actor {
 public:
  // `interrupted` is the process's stop word (common/role_process.h); the actor treats it
  // like the run's stop flag.
  Actor(const RunConfig& config, uint32_t slot, std::atomic<uint32_t>* interrupted);
  ~Actor();

  // Runs the story above until stop. Returns normally on a clean stop; throws ActorError
  // (or ShmError/WeightBlobError, both one-line) on a fatal problem.
  void run();

 private:
  struct Session;  // what one run() holds, from the segment to the self-play driver (actor.cc)

  // The steps of run(), in the order of the story:
  // 1. Attaches to the segment, takes lane `slot` and its stats slot, starts the RunWatcher.
  void attach();
  // 2. Waits for the learner's first weights; false if the run stopped first.
  bool wait_for_first_weights();
  //    Then builds the network and its evaluation cache, loads those weights, sets precision.
  void load_network();
  // 3. One round of batched MCTS for every game in flight; collects the finished games.
  void play_round();
  // 4. Commits every finished game as one record to the lane (blocking while it is full).
  void commit_finished_games();
  //    Then the round's counters and rate gauges, and the heartbeat.
  void report_round();
  // 5. Between rounds: loads newer weights if the WeightSlot has any (one atomic load when it
  //    has none).
  void switch_to_newer_weights();
  // 6. Says how it stopped; the lane is released when the session ends.
  void stop();

  // Loads the blob just read (weights `version`) into the evaluator; ActorError if it is
  // another network's.
  void load_weights(uint64_t version);
  bool stopping() const;
  void log(const std::string& line) const;

  const RunConfig config_;
  const uint32_t slot_;
  std::atomic<uint32_t>* interrupted_;
  std::unique_ptr<Session> s_;
};

}  // namespace rz
