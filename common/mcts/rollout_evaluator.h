// RolloutEvaluator: the classic pure-MCTS baseline behind the Evaluator interface.
//
// The prior is uniform over the legal moves and the value of a state is the mean outcome, for
// the player to move, of `rollouts` uniformly random playouts to the end of the game. With it
// the AlphaZero search becomes plain UCT-style MCTS: the opponent every trained network must
// beat, and a network-free evaluator for testing the search.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "common/evaluator.h"
#include "common/game.h"

namespace rz {

class RolloutEvaluator : public Evaluator {
 public:
  // Throws std::invalid_argument unless rollouts >= 1.
  RolloutEvaluator(const Game& game, uint64_t seed, int rollouts = 1);

  void evaluate(const State* const* states, int n, float* policy, float* value) override;

 private:
  // Outcome for `player` of one uniformly random playout from `state`.
  float playout(const State& state, int player);

  const int num_actions_;
  const int rollouts_;
  std::mt19937_64 rng_;
  std::vector<uint8_t> legal_;
};

}  // namespace rz
