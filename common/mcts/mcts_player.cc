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
  for (int i = 0; i <= kMaxReuseDepth; ++i) scratch_.push_back(game.new_initial_state());
}

bool MctsPlayer::find_in_tree(int32_t node, int depth, const State& target,
                              std::vector<Action>* path) {
  const State& at = *scratch_[path->size()];
  if (depth == 0) return at.hash() == target.hash() && at.move_number() == target.move_number();
  const SearchTree& tree = search_.tree();
  const Node& n = tree.node(node);
  if (n.status != Node::kExpanded) return false;
  for (int b = 0; b < n.num_children; ++b) {
    const Node& child = tree.node(n.first_child + b);
    State& next = *scratch_[path->size() + 1];
    next.copy_from(at);
    next.apply(child.action);
    path->push_back(child.action);
    if (find_in_tree(n.first_child + b, depth - 1, target, path)) return true;
    path->pop_back();
  }
  return false;
}

Action MctsPlayer::choose(const State& state, std::vector<uint32_t>* visits, float* root_value) {
  if (state.is_terminal())
    throw std::invalid_argument("mcts: choose() was given a finished game: there is no move");
  reused_ = false;
  if (config_.reuse_tree && !config_.gumbel && searched_) {  // Gumbel: a fresh tree each search
    const State& root = search_.root_state();
    const int depth = state.move_number() - root.move_number();
    std::vector<Action> path;
    if (depth >= 1 && depth <= kMaxReuseDepth) {
      scratch_[0]->copy_from(root);
      if (find_in_tree(SearchTree::kRoot, depth, state, &path)) {
        for (Action a : path) search_.advance(a);
        reused_ = search_.root_state().hash() == state.hash();
      }
    }
  }
  if (!reused_) search_.set_root(state);
  searched_ = true;
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
