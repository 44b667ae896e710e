#include "common/mcts/uniform_evaluator.h"

namespace rz {

UniformEvaluator::UniformEvaluator(const Game& game)
    : num_actions_(game.num_actions()), legal_(static_cast<size_t>(game.num_actions())) {}

void UniformEvaluator::evaluate(const State* const* states, int n, float* policy, float* value) {
  for (int i = 0; i < n; ++i) {
    float* p = policy + static_cast<size_t>(i) * static_cast<size_t>(num_actions_);
    states[i]->legal_mask(legal_.data());
    int count = 0;
    for (int a = 0; a < num_actions_; ++a) count += legal_[a];
    for (int a = 0; a < num_actions_; ++a)
      p[a] = legal_[a] ? 1.0f / static_cast<float>(count) : 0.0f;
    value[i] = 0.0f;
  }
  count(n);
}

}  // namespace rz
