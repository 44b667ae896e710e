#include "common/mcts/uniform_evaluator.h"

namespace rz {

void write_uniform_prior(const State& state, int num_actions, uint8_t* legal, float* policy) {
  state.legal_mask(legal);
  int count = 0;
  for (int a = 0; a < num_actions; ++a) count += legal[a];
  for (int a = 0; a < num_actions; ++a)
    policy[a] = legal[a] ? 1.0f / static_cast<float>(count) : 0.0f;
}

UniformEvaluator::UniformEvaluator(const Game& game)
    : num_actions_(game.num_actions()), legal_(static_cast<size_t>(game.num_actions())) {}

void UniformEvaluator::evaluate(const State* const* states, int n, float* policy, float* value) {
  for (int i = 0; i < n; ++i) {
    write_uniform_prior(*states[i], num_actions_, legal_.data(),
                        policy + static_cast<size_t>(i) * static_cast<size_t>(num_actions_));
    value[i] = 0.0f;
  }
  count(n);
}

}  // namespace rz
