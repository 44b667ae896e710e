// MctsPlayer: one AlphaZero search for one position, for match play and evaluation.
//
// choose() searches `state` with config.simulations simulations, sending up to
// config.virtual_leaves leaves per evaluate() call, and returns the most visited move (ties:
// higher prior). Root noise is added only if config.dirichlet_epsilon > 0, so players for
// evaluation should set it to 0. Self-play uses SelfPlayDriver instead (many games, one
// batch).
//
// Tree reuse (config.reuse_tree): when `state` lies 1-4 moves below the previous search's
// root along moves that tree holds (our move and the opponent's reply, say), the subtree of
// `state` becomes the new tree and its visits count towards config.simulations, as in
// self-play. The path is found by replaying the tree's moves and comparing State::hash()
// and move_number() with `state`; anything else (a new game, an unrelated position) starts
// from an empty tree.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/evaluator.h"
#include "common/game.h"
#include "common/mcts/game_search.h"
#include "common/mcts/mcts_config.h"

namespace rz {

class MctsPlayer {
 public:
  // Throws std::invalid_argument if the config is invalid.
  MctsPlayer(const Game& game, Evaluator& evaluator, MctsConfig config, uint64_t seed);

  // Fills *visits (num_actions entries: N(root, a)) and *root_value (the root's value for
  // the player to move) when given.
  Action choose(const State& state, std::vector<uint32_t>* visits = nullptr,
                float* root_value = nullptr);

  const MctsConfig& config() const { return config_; }
  // The tree of the last search (for inspection and tests).
  const SearchTree& last_tree() const { return search_.tree(); }
  // Whether the last choose() started from an inherited subtree.
  bool last_search_reused() const { return reused_; }

 private:
  const Game& game_;
  Evaluator& evaluator_;
  const MctsConfig config_;
  GameSearch search_;
  // Finds the moves leading from the current root to `state` in the tree (depth =
  // state's move number - root's); true and *path filled if found.
  bool find_in_tree(int32_t node, int depth, const State& target, std::vector<Action>* path);

  static constexpr int kMaxReuseDepth = 4;
  std::vector<const State*> batch_;
  std::vector<float> policy_, value_;
  std::vector<std::unique_ptr<State>> scratch_;  // one state per level of find_in_tree
  bool searched_ = false;                        // a previous search's tree is in search_
  bool reused_ = false;
};

}  // namespace rz
