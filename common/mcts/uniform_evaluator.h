// UniformEvaluator: uniform prior over the legal moves and value 0 for every state.
//
// It costs almost nothing, so a search driven by it measures the pure cost of the tree
// (selection, expansion, backup, state replay) — see tree_cost.h — and it is the
// knowledge-free baseline prior.
#pragma once

#include <cstdint>
#include <vector>

#include "common/evaluator.h"
#include "common/game.h"

namespace rz {

// Writes the uniform distribution over the legal moves of `state` to policy[0, num_actions)
// (0 for illegal moves); `legal` is num_actions bytes of scratch.
void write_uniform_prior(const State& state, int num_actions, uint8_t* legal, float* policy);

class UniformEvaluator : public Evaluator {
 public:
  explicit UniformEvaluator(const Game& game);
  void evaluate(const State* const* states, int n, float* policy, float* value) override;

 private:
  const int num_actions_;
  std::vector<uint8_t> legal_;
};

}  // namespace rz
