// The pure cost of the search tree, for benchmarks: self-play with UniformEvaluator (no
// network, no rollouts), so the time is selection, expansion, backup and the replay of each
// leaf's position from the root.
#pragma once

#include <cstddef>

#include "common/game.h"
#include "common/mcts/mcts_config.h"

namespace rz {

struct TreeCost {
  double sims_per_s = 0.0;      // simulations (backups) per second, one thread
  double bytes_per_node = 0.0;  // arena bytes held per tree node at the end of a search
  size_t node_size = 0;         // sizeof(Node): the part of bytes_per_node that is not slack
  double seconds = 0.0;         // time measured
  unsigned long long simulations = 0, moves = 0;
};

// Runs a SelfPlayDriver with `games` games in flight for about `seconds` seconds (at least
// one round). `config` defaults to MctsConfig() (200 simulations, 8 virtual leaves).
TreeCost measure_tree_cost(const Game& game, int games, double seconds,
                           const MctsConfig& config = MctsConfig());

}  // namespace rz
