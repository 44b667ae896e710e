// MctsPlayer: one AlphaZero search for one position, for match play and evaluation.
//
// choose() searches `state` from an empty tree with config.simulations simulations, sending
// up to config.virtual_leaves leaves per evaluate() call, and returns the most visited move
// (ties: higher prior). Root noise is added only if config.dirichlet_epsilon > 0, so players
// for evaluation should set it to 0. Self-play uses SelfPlayDriver instead (many games, one
// batch).
#pragma once

#include <cstdint>
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

 private:
  const Game& game_;
  Evaluator& evaluator_;
  const MctsConfig config_;
  GameSearch search_;
  std::vector<const State*> batch_;
  std::vector<float> policy_, value_;
};

}  // namespace rz
