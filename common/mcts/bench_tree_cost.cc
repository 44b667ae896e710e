// ringzero-bench-tree [game-spec] [games] [seconds]: the pure cost of the MCTS tree.
//
// Self-play with UniformEvaluator (uniform prior, value 0): what remains is selection,
// expansion, backup and replaying each leaf's position. Printed next to the physical
// reference of the same run: the cost of one State clone + apply, which every simulation pays.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

#include "common/game.h"
#include "common/mcts/tree_cost.h"

int main(int argc, char** argv) {
  try {
    const std::string spec = argc > 1 ? argv[1] : "connect4";
    const int games = argc > 2 ? std::atoi(argv[2]) : 32;
    const double seconds = argc > 3 ? std::atof(argv[3]) : 3.0;
    if (games < 1 || !(seconds > 0.0)) {
      std::fprintf(stderr, "usage: ringzero-bench-tree [game-spec] [games >= 1] [seconds > 0]\n");
      return 2;
    }
    auto game = rz::make_game(spec);

    // Reference: clone the initial state and play one legal move, as a leaf replay does.
    auto initial = game->new_initial_state();
    const rz::Action first = initial->legal_actions().front();
    const int reps = 1000000;
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t sink = 0;
    for (int i = 0; i < reps; ++i) {
      auto s = initial->clone();
      s->apply(first);
      sink += s->hash();
    }
    const double clone_ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
        reps;

    const rz::MctsConfig config;
    const rz::TreeCost cost = rz::measure_tree_cost(*game, games, seconds, config);
    std::printf("game %s, %d games in flight, %d simulations/search, %d virtual leaves\n",
                game->spec().c_str(), games, config.simulations, config.virtual_leaves);
    std::printf("tree: %.0f simulations/s (%llu simulations, %llu moves in %.1f s)\n",
                cost.sims_per_s, cost.simulations, cost.moves, cost.seconds);
    std::printf("reference: clone+apply of one state %.0f ns = %.0f /s (checksum %llu)\n", clone_ns,
                1e9 / clone_ns, static_cast<unsigned long long>(sink % 10));
    std::printf("memory: %.1f bytes per node (sizeof(Node) = %zu, rest is arena slack)\n",
                cost.bytes_per_node, cost.node_size);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringzero-bench-tree: %s\n", e.what());
    return 1;
  }
}
