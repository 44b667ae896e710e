#include "common/mcts/rollout_evaluator.h"

#include <cassert>
#include <stdexcept>

#include "common/mcts/uniform_evaluator.h"

namespace rz {

RolloutEvaluator::RolloutEvaluator(const Game& game, uint64_t seed, int rollouts)
    : num_actions_(game.num_actions()), rollouts_(rollouts), rng_(seed) {
  if (rollouts < 1) throw std::invalid_argument("rollout evaluator: rollouts must be at least 1");
  legal_.resize(static_cast<size_t>(num_actions_));
}

void RolloutEvaluator::evaluate(const State* const* states, int n, float* policy, float* value) {
  for (int i = 0; i < n; ++i) {
    const State& s = *states[i];
    assert(!s.is_terminal());
    write_uniform_prior(s, num_actions_, legal_.data(),
                        policy + static_cast<size_t>(i) * static_cast<size_t>(num_actions_));
    const int mover = s.current_player();
    float sum = 0.0f;
    for (int r = 0; r < rollouts_; ++r) sum += playout(s, mover);
    value[i] = sum / static_cast<float>(rollouts_);
  }
  count(n);
}

float RolloutEvaluator::playout(const State& state, int player) {
  std::unique_ptr<State> s = state.clone();
  while (!s->is_terminal()) {
    s->legal_mask(legal_.data());
    int count = 0;
    for (int a = 0; a < num_actions_; ++a) count += legal_[a];
    int k = std::uniform_int_distribution<int>(0, count - 1)(rng_);
    Action chosen = kInvalidAction;
    for (int a = 0; a < num_actions_; ++a)
      if (legal_[a] && k-- == 0) {
        chosen = a;
        break;
      }
    s->apply(chosen);
  }
  return s->returns(player);
}

}  // namespace rz
