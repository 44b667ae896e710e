// GameSearch: the search state of one game in progress — its current position (the root
// State), its SearchTree, and the leaves whose evaluations are in flight.
//
// One search runs over several rounds. In each round collect_leaves() walks the tree up to
// `max_leaves` times (virtual loss keeps the walks apart), backs up terminal leaves at once
// with their exact outcome, and hands the states of the other leaves to the caller, who
// evaluates them together with other games' leaves and passes the results to
// complete_leaves(). The search is done when the root's children hold `simulations` visits;
// visits inherited from the previous move (tree reuse) count towards that.
//
// With config.gumbel the root is Gumbel AlphaZero's (gumbel_root.h): begin() draws Gumbel noise
// instead of Dirichlet noise, walks take the root move sequential halving schedules, the move
// played is its survivor, the training target its improved policy, and every search starts
// from a fresh tree.
//
// Leaf states are made by copying the root state into a preallocated state (State::copy_from)
// and applying the path's actions, so the tree stores no positions and a simulation allocates
// nothing once the arena has grown (tested by counting allocations).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "common/game.h"
#include "common/mcts/gumbel_root.h"
#include "common/mcts/mcts_config.h"
#include "common/mcts/search_tree.h"

namespace rz {

class GameSearch {
 public:
  // `seed` seeds this game's own generator (root noise, move sampling).
  GameSearch(const Game& game, const MctsConfig& config, uint64_t seed);

  // Starts over from `state` with an empty tree.
  void set_root(const State& state);
  // Plays `action` at the root; with config.reuse_tree the chosen child's subtree is kept.
  void advance(Action action);

  // Starts a search of `simulations` simulations from the current root; `add_noise` puts
  // Dirichlet noise on the root priors (now, or as soon as the root is expanded).
  void begin(int simulations, bool add_noise);
  // True when the search begun last has all its simulations and nothing is in flight.
  bool done() const;

  // Collects up to max_leaves leaves that need an evaluation and appends their states to
  // *batch (valid until complete_leaves). Terminal leaves are backed up here and do not
  // count against max_leaves; up to max_leaves walks may end on a leaf already collected
  // (a collision) before the collection gives up. Returns the number of states appended.
  int collect_leaves(int max_leaves, std::vector<const State*>* batch);
  // Expands and backs up the leaves of the last collect_leaves() call, in order:
  // policy[i * num_actions + a] and value[i] are leaf i's evaluation.
  void complete_leaves(const float* policy, const float* value);

  // The move to play: sampled with probability proportional to N^(1/temperature) when
  // `sample`, else the most visited child (ties: higher prior). Requires done(). With
  // config.gumbel, the sequential halving's survivor (its noise did the sampling).
  Action choose_action(bool sample, float temperature);
  // The policy training target as (action, count) pairs in action order, every count >= 1
  // for the moves it gives weight: the root visit counts (children with N > 0), or with
  // config.gumbel the improved policy in units of 1/10000 (each legal move at least 1).
  void policy_target(std::vector<std::pair<Action, uint32_t>>* out);
  // The root's value and its most visited child's Q, both for the player to move.
  float root_value() const { return tree_.root_value(); }
  float best_child_q() const;
  // Root children with N > 0 as (action, N), in action order.
  void root_visits(std::vector<std::pair<Action, uint32_t>>* out) const;

  const State& root_state() const { return *root_state_; }
  const SearchTree& tree() const { return tree_; }
  // Backups performed (one per simulation, terminal ones included) since construction.
  uint64_t simulations() const { return simulations_; }

 private:
  void backup_leaf(const int32_t* path, int length, int viewpoint, float value);
  // With config.gumbel: begins the Gumbel root as soon as the root is expanded.
  void start_gumbel_root();

  const Game& game_;
  const MctsConfig& config_;
  const int num_actions_;
  std::unique_ptr<State> root_state_;
  SearchTree tree_;

  uint32_t target_ = 0;  // root child visits that end the search
  bool noise_pending_ = false;
  GumbelRoot gumbel_;
  bool gumbel_pending_ = false;  // begin the Gumbel root once the root is expanded
  bool gumbel_noise_ = false;
  std::mt19937_64 rng_;
  uint64_t simulations_ = 0;

  // Leaves in flight, reused round after round (capacity virtual_leaves each).
  struct Leaf {
    std::vector<int32_t> path;
    std::unique_ptr<State> state;
  };
  std::vector<Leaf> leaves_;
  int num_leaves_ = 0;
  // Walks that ended on a leaf already in flight. Their virtual loss stays until the round's
  // evaluations are in (steering further walks elsewhere, as in Leela Chess Zero), then goes.
  std::vector<std::vector<int32_t>> collisions_;
  int num_collisions_ = 0;
  std::vector<int32_t> scratch_path_;
  std::vector<uint8_t> legal_;
};

}  // namespace rz
