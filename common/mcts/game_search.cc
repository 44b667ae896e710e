#include "common/mcts/game_search.h"

#include <fmt/format.h>

#include <cassert>
#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace rz {

GameSearch::GameSearch(const Game& game, const MctsConfig& config, uint64_t seed)
    : game_(game), config_(config), num_actions_(game.num_actions()), rng_(seed) {
  if (num_actions_ > SearchTree::kMaxActions)
    throw std::invalid_argument(
        fmt::format("mcts: game {} has {} actions; the search supports at most {}", game.name(),
                    num_actions_, SearchTree::kMaxActions));
  leaves_.resize(static_cast<size_t>(config.virtual_leaves));
  collisions_.resize(static_cast<size_t>(config.virtual_leaves));
  for (Leaf& leaf : leaves_) {
    leaf.path.reserve(static_cast<size_t>(game.max_game_length()) + 1);
    leaf.state = game.new_initial_state();  // overwritten by copy_from for every simulation
  }
  for (auto& path : collisions_) path.reserve(static_cast<size_t>(game.max_game_length()) + 1);
  scratch_path_.reserve(static_cast<size_t>(game.max_game_length()) + 1);
  legal_.resize(static_cast<size_t>(num_actions_));
  set_root(*game.new_initial_state());
}

void GameSearch::set_root(const State& state) {
  assert(num_leaves_ == 0);
  if (root_state_)
    root_state_->copy_from(state);
  else
    root_state_ = state.clone();
  tree_.clear();
  target_ = 0;
  noise_pending_ = false;
}

void GameSearch::advance(Action action) {
  assert(num_leaves_ == 0);
  root_state_->apply(action);  // State::apply asserts legality
  if (config_.reuse_tree && !config_.gumbel)
    tree_.reroot(action);
  else
    tree_.clear();
  target_ = 0;
  noise_pending_ = false;
}

void GameSearch::begin(int simulations, bool add_noise) {
  assert(num_leaves_ == 0);
  assert(!root_state_->is_terminal());
  target_ = static_cast<uint32_t>(simulations);
  if (config_.gumbel) {
    gumbel_noise_ = add_noise;
    gumbel_pending_ = true;
    start_gumbel_root();
    return;
  }
  noise_pending_ = add_noise && config_.dirichlet_epsilon > 0.0f;
  if (noise_pending_ && tree_.root().status == Node::kExpanded) {
    tree_.add_dirichlet_noise(config_.dirichlet_alpha, config_.dirichlet_epsilon, rng_);
    noise_pending_ = false;
  }
}

void GameSearch::start_gumbel_root() {
  if (!gumbel_pending_ || tree_.root().status != Node::kExpanded) return;
  gumbel_.begin(tree_, config_, static_cast<int>(target_), gumbel_noise_, rng_);
  gumbel_pending_ = false;
}

bool GameSearch::done() const {
  const Node& root = tree_.root();
  // For an expanded root N = 1 + sum of its children's N (see SearchTree).
  return num_leaves_ == 0 && num_collisions_ == 0 && root.status == Node::kExpanded &&
         root.N - 1 >= target_;
}

int GameSearch::collect_leaves(int max_leaves, std::vector<const State*>* batch) {
  assert(num_leaves_ == 0 && num_collisions_ == 0);
  assert(max_leaves <= static_cast<int>(leaves_.size()));
  int appended = 0;
  while (appended < max_leaves) {
    const Node& root = tree_.root();
    if (root.status == Node::kPending || root.status == Node::kTerminal) break;
    if (root.status == Node::kExpanded && root.N - 1 >= target_) break;

    Leaf& leaf = leaves_[static_cast<size_t>(num_leaves_)];
    int root_child = -1;
    if (config_.gumbel && root.status == Node::kExpanded) {
      root_child = gumbel_.next_child(tree_, config_, num_leaves_ + num_collisions_);
      if (root_child < 0) break;  // a halving waits for this round's evaluations
    }
    tree_.select_leaf(config_, &leaf.path, root_child);
    const int32_t* path = leaf.path.data();
    const int length = static_cast<int>(leaf.path.size());
    const int32_t leaf_index = path[length - 1];
    Node& node = tree_.node(leaf_index);
    if (node.status == Node::kPending) {
      // Collision with a leaf already in flight. Keeping this walk's virtual loss makes the
      // next walk avoid the path; after max_leaves collisions the tree is too narrow for
      // more leaves this round.
      if (num_collisions_ == max_leaves) {
        tree_.revert_virtual_loss(path, length);
        break;
      }
      leaf.path.swap(collisions_[static_cast<size_t>(num_collisions_++)]);
      continue;
    }
    if (node.status == Node::kTerminal) {
      backup_leaf(path, length, node.player, node.V);
      continue;
    }
    // An unexpanded node: replay the path from the root into the leaf's preallocated state.
    leaf.state->copy_from(*root_state_);
    for (int i = 1; i < length; ++i) {
      leaf.state->apply(tree_.node(path[i]).action);  // asserted legal in debug builds
    }
    if (leaf.state->is_terminal()) {
      // Exact outcome, no evaluator. Two-player zero-sum: player 1's return is the negation.
      assert(leaf.state->returns(1) == -leaf.state->returns(0));
      tree_.set_terminal(leaf_index, leaf.state->returns(0));
      backup_leaf(path, length, 0, leaf.state->returns(0));
      continue;
    }
    node.status = Node::kPending;
    batch->push_back(leaf.state.get());
    ++num_leaves_;
    ++appended;
  }
  return appended;
}

void GameSearch::complete_leaves(const float* policy, const float* value) {
  for (int i = 0; i < num_collisions_; ++i) {
    const auto& path = collisions_[static_cast<size_t>(i)];
    tree_.revert_virtual_loss(path.data(), static_cast<int>(path.size()));
  }
  num_collisions_ = 0;
  for (int i = 0; i < num_leaves_; ++i) {
    Leaf& leaf = leaves_[static_cast<size_t>(i)];
    const int length = static_cast<int>(leaf.path.size());
    const int player = leaf.state->current_player();
    leaf.state->legal_mask(legal_.data());
    tree_.expand(leaf.path[static_cast<size_t>(length - 1)], player, legal_.data(),
                 policy + static_cast<size_t>(i) * static_cast<size_t>(num_actions_), num_actions_,
                 value[i]);
    backup_leaf(leaf.path.data(), length, player, value[i]);
  }
  num_leaves_ = 0;
  start_gumbel_root();
  if (noise_pending_ && tree_.root().status == Node::kExpanded) {
    tree_.add_dirichlet_noise(config_.dirichlet_alpha, config_.dirichlet_epsilon, rng_);
    noise_pending_ = false;
  }
  tree_.check_invariants();
}

void GameSearch::backup_leaf(const int32_t* path, int length, int viewpoint, float value) {
  tree_.backup(path, length, viewpoint, value);
  ++simulations_;
}

Action GameSearch::choose_action(bool sample, float temperature) {
  assert(done());
  const Node& root = tree_.root();
  int32_t chosen = -1;
  if (config_.gumbel) {
    chosen = root.first_child + gumbel_.final_child(tree_, config_);
  } else if (sample) {
    // pi(a) proportional to N(s,a)^(1/temperature).
    double total = 0.0;
    for (int b = 0; b < root.num_children; ++b) {
      const uint32_t n = tree_.node(root.first_child + b).N;
      if (n > 0) total += std::pow(static_cast<double>(n), 1.0 / temperature);
    }
    double x = std::uniform_real_distribution<double>(0.0, total)(rng_);
    for (int b = 0; b < root.num_children && chosen < 0; ++b) {
      const uint32_t n = tree_.node(root.first_child + b).N;
      if (n == 0) continue;
      x -= std::pow(static_cast<double>(n), 1.0 / temperature);
      if (x <= 0.0) chosen = root.first_child + b;
    }
    if (chosen < 0) chosen = tree_.most_visited_child();  // rounding left x a hair above 0
  } else {
    chosen = tree_.most_visited_child();
  }
  assert(chosen >= 0 && tree_.node(chosen).N > 0);
  const Action a = tree_.node(chosen).action;
  assert(root_state_->is_legal(a));
  return a;
}

float GameSearch::best_child_q() const {
  const int32_t best = tree_.most_visited_child();
  if (best < 0 || tree_.node(best).N == 0) return tree_.root_value();
  return tree_.node(best).Q();
}

void GameSearch::policy_target(std::vector<std::pair<Action, uint32_t>>* out) {
  if (!config_.gumbel) return root_visits(out);
  out->clear();
  const Node& root = tree_.root();
  const std::vector<float>& pi = gumbel_.improved_policy(tree_, config_);
  for (int b = 0; b < root.num_children; ++b) {
    const long count = std::lround(pi[static_cast<size_t>(b)] * 10000.0f);
    out->emplace_back(tree_.node(root.first_child + b).action,
                      static_cast<uint32_t>(std::max(1L, count)));
  }
}

void GameSearch::root_visits(std::vector<std::pair<Action, uint32_t>>* out) const {
  out->clear();
  const Node& root = tree_.root();
  for (int b = 0; b < root.num_children; ++b) {
    const Node& c = tree_.node(root.first_child + b);
    if (c.N > 0) out->emplace_back(c.action, c.N);
  }
}

}  // namespace rz
