// A simulation allocates nothing once the arena has grown: this binary counts every
// operator new and runs real searches (UniformEvaluator) twice from the same position; the
// second search has the capacity of the first, so any allocation is per-simulation work
// (State::clone() per simulation made one allocation for each).
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "common/game.h"
#include "common/mcts/game_search.h"
#include "common/mcts/mcts_config.h"
#include "common/mcts/uniform_evaluator.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace rz {

// Runs one search of `simulations` from `root`; returns the allocations it made.
uint64_t search_allocations(GameSearch& search, UniformEvaluator& eval, const State& root,
                            int simulations, int num_actions, int leaves) {
  std::vector<const State*> batch;
  batch.reserve(leaves);
  std::vector<float> policy(size_t(leaves) * num_actions), value(leaves);
  search.set_root(root);
  const uint64_t before = g_allocations.load();
  search.begin(simulations, /*add_noise=*/false);
  while (!search.done()) {
    batch.clear();
    const int n = search.collect_leaves(leaves, &batch);
    if (n > 0) eval.evaluate(batch.data(), n, policy.data(), value.data());
    search.complete_leaves(policy.data(), value.data());
  }
  return g_allocations.load() - before;
}

TEST_CASE("a simulation makes no heap allocation once the tree has grown", "[mcts][alloc]") {
  for (const char* spec : {"connect4", "tictactoe", "dotsandboxes"}) {
    auto game = make_game(spec);
    MctsConfig config;
    config.simulations = 200;
    config.virtual_leaves = 8;
    config.dirichlet_epsilon = 0.0f;
    UniformEvaluator eval(*game);
    GameSearch search(*game, config, 1);
    auto root = game->new_initial_state();
    root->apply(root->legal_actions()[0]);
    const uint64_t first = search_allocations(search, eval, *root, 200, game->num_actions(), 8);
    const uint64_t second = search_allocations(search, eval, *root, 200, game->num_actions(), 8);
    INFO(spec << ": first search " << first << " allocations, second " << second);
    CHECK(first > 0);  // the counter works: the first search grows the arena
    CHECK(second == 0);
    CHECK(search.simulations() >= 400);
  }
}

}  // namespace rz
