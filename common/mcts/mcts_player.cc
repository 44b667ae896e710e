#include "common/mcts/mcts_player.h"

#include <stdexcept>

namespace rz {
MctsPlayer::MctsPlayer(const Game& game, Evaluator& evaluator, MctsConfig config, uint64_t seed)
    : game_(game),
      evaluator_(evaluator),
      config_(config.validated()),
      search_(game, config_, seed) {
  const size_t leaves = static_cast<size_t>(config_.virtual_leaves);
  batch_.reserve(leaves);
  policy_.resize(leaves * static_cast<size_t>(game.num_actions()));
  value_.resize(leaves);
}

Action MctsPlayer::choose(const State& state, std::vector<uint32_t>* visits, float* root_value) {
  if (state.is_terminal())
    throw std::invalid_argument("mcts: choose() was given a finished game: there is no move");
  search_.set_root(state);
  search_.begin(config_.simulations, config_.dirichlet_epsilon > 0.0f);
  while (!search_.done()) {
    batch_.clear();
    const int n = search_.collect_leaves(config_.virtual_leaves, &batch_);
    if (n > 0) evaluator_.evaluate(batch_.data(), n, policy_.data(), value_.data());
    search_.complete_leaves(policy_.data(), value_.data());
  }
  if (visits) {
    visits->assign(static_cast<size_t>(game_.num_actions()), 0);
    const SearchTree& tree = search_.tree();
    const Node& root = tree.root();
    for (int b = 0; b < root.num_children; ++b) {
      const Node& c = tree.node(root.first_child + b);
      (*visits)[static_cast<size_t>(c.action)] = c.N;
    }
  }
  if (root_value) *root_value = search_.root_value();
  return search_.choose_action(/*sample=*/false, 1.0f);
}

}  // namespace rz
