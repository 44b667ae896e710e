#include "common/mcts/tree_cost.h"

#include <chrono>
#include <vector>

#include "common/mcts/search_tree.h"
#include "common/mcts/selfplay.h"
#include "common/mcts/uniform_evaluator.h"

namespace rz {

TreeCost measure_tree_cost(const Game& game, int games, double seconds, const MctsConfig& config) {
  UniformEvaluator evaluator(game);
  SelfPlayDriver driver(game, evaluator, config, games, /*seed=*/12345);
  std::vector<FinishedGame> finished;
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  double elapsed = 0.0;
  do {
    driver.run_round(&finished);
    finished.clear();
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);

  TreeCost cost;
  cost.seconds = elapsed;
  cost.simulations = driver.simulations();
  cost.moves = driver.moves_played();
  cost.sims_per_s = static_cast<double>(driver.simulations()) / elapsed;
  cost.node_size = sizeof(Node);
  if (driver.searched_nodes() > 0)
    cost.bytes_per_node = static_cast<double>(driver.searched_arena_bytes()) /
                          static_cast<double>(driver.searched_nodes());
  return cost;
}

}  // namespace rz
