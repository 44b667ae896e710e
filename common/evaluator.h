// Position evaluators behind one interface: the network (common/net/net_evaluator.h), the
// classic pure-MCTS baseline (uniform prior, random-rollout value;
// common/mcts/rollout_evaluator.h) and the uniform prior with zero value that measures the bare
// tree (common/mcts/uniform_evaluator.h).
//
// MCTS hands an evaluator a batch of leaf states at once; batching is where CPU self-play
// gets its speed, so implementations should do one forward pass per call.
#pragma once

#include <cstdint>

#include "common/game.h"

namespace rz {

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // Evaluates n non-terminal states. Writes, for state i:
  //   policy[i * num_actions + a]: prior probability of action a; 0 for illegal actions, the
  //                                legal ones summing to 1;
  //   value[i]: expected outcome in [-1, 1] for the player to move in states[i].
  virtual void evaluate(const State* const* states, int n, float* policy, float* value) = 0;
  // Number of evaluate() calls and states evaluated so far (for benchmarks and stats).
  uint64_t calls() const { return calls_; }
  uint64_t states_evaluated() const { return states_; }

 protected:
  void count(int n) {
    calls_ += 1;
    states_ += static_cast<uint64_t>(n);
  }

 private:
  uint64_t calls_ = 0, states_ = 0;
};

}  // namespace rz
