// SearchTree and GameSearch: backup from each chooser's point of view (turns need not
// alternate), virtual loss, first-play urgency, root noise, tree reuse, config checks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/game.h"
#include "common/mcts/game_search.h"
#include "common/mcts/mcts_config.h"
#include "common/mcts/rollout_evaluator.h"
#include "common/mcts/search_tree.h"
#include "common/mcts/uniform_evaluator.h"

namespace rz {
namespace {

// Expands node i with `k` legal actions 0..k-1 and the given priors.
void expand_with(SearchTree& tree, int32_t i, int player, const std::vector<float>& priors,
                 float value) {
  std::vector<uint8_t> legal(priors.size(), 1);
  tree.expand(i, player, legal.data(), priors.data(), static_cast<int>(priors.size()), value);
}

}  // namespace

TEST_CASE("backup keeps each edge's value for its chooser when the same player moves twice") {
  // root (player 0) --a0--> x (player 0 again, as after completing a box)
  //                 --b0--> y (player 1) --c0--> leaf (player 0), value +0.5 for player 1.
  SearchTree tree;
  expand_with(tree, SearchTree::kRoot, 0, {0.5f, 0.5f}, 0.0f);
  const int32_t x = tree.root().first_child;
  expand_with(tree, x, /*player=*/0, {1.0f}, 0.0f);
  const int32_t y = tree.node(x).first_child;
  expand_with(tree, y, /*player=*/1, {1.0f}, 0.0f);
  const int32_t leaf = tree.node(y).first_child;

  const std::vector<int32_t> path = {SearchTree::kRoot, x, y, leaf};
  tree.apply_virtual_loss(path.data(), 4);
  CHECK(tree.node(x).W == -1.0f);  // the virtual loss is a loss for each edge's chooser
  tree.backup(path.data(), 4, /*viewpoint=*/1, 0.5f);

  // Chooser of root->x is player 0: -0.5. Chooser of x->y is player 0 again: -0.5 (a blind
  // per-ply negation would give +0.5 here). Chooser of y->leaf is player 1: +0.5.
  CHECK(tree.node(x).W == Approx(-0.5f));
  CHECK(tree.node(y).W == Approx(-0.5f));
  CHECK(tree.node(leaf).W == Approx(0.5f));
  CHECK(tree.node(x).N == 1);
  CHECK(tree.node(leaf).N == 1);
  CHECK(tree.root().N == 1);
}

TEST_CASE("virtual loss steers the next selection elsewhere and reverts exactly") {
  SearchTree tree;
  MctsConfig config;
  tree.apply_virtual_loss(std::vector<int32_t>{0}.data(), 1);  // the root's own evaluation
  expand_with(tree, SearchTree::kRoot, 0, {0.4f, 0.35f, 0.25f}, 0.0f);
  std::vector<int32_t> first, second;
  tree.select_leaf(config, &first);
  tree.select_leaf(config, &second);
  REQUIRE(first.size() == 2);
  REQUIRE(second.size() == 2);
  CHECK(first[1] != second[1]);
  CHECK(tree.node(first[1]).action == 0);  // highest prior first
  CHECK(tree.root().N == 3);
  tree.revert_virtual_loss(second.data(), 2);
  tree.revert_virtual_loss(first.data(), 2);
  CHECK(tree.root().N == 1);
  for (int b = 0; b < 3; ++b) {
    CHECK(tree.node(tree.root().first_child + b).N == 0);
    CHECK(tree.node(tree.root().first_child + b).W == 0.0f);
  }
}

TEST_CASE("first-play urgency: an unvisited child's Q is the parent's Q minus the reduction") {
  // Root value 0, child 0 visited once with Q = -0.2: Q(parent) = (0 - 0.2) / 2 = -0.1.
  // U(child 0) = 1.5 * 0.5 * sqrt(1) / 2 = 0.375 -> score 0.175.
  // Child 1 (unvisited): score = -0.1 - fpu + 1.5 * 0.5 * 1 / 1 = 0.65 - fpu.
  // So child 1 is chosen for fpu = 0.25 (0.4 > 0.175) and child 0 for fpu = 1 (-0.35).
  for (const float fpu : {0.25f, 1.0f}) {
    SearchTree tree;
    MctsConfig config;
    config.c_puct = 1.5f;
    config.fpu_reduction = fpu;
    tree.apply_virtual_loss(std::vector<int32_t>{0}.data(), 1);
    expand_with(tree, SearchTree::kRoot, 0, {0.5f, 0.5f}, 0.0f);
    const std::vector<int32_t> to_child0 = {0, tree.root().first_child};
    tree.apply_virtual_loss(to_child0.data(), 2);
    tree.backup(to_child0.data(), 2, /*viewpoint=*/0, -0.2f);
    std::vector<int32_t> path;
    tree.select_leaf(config, &path);
    CHECK(tree.node(path.back()).action == (fpu < 0.5f ? 1 : 0));
  }
}

TEST_CASE("Dirichlet noise changes root priors and keeps them a distribution") {
  SearchTree tree;
  expand_with(tree, SearchTree::kRoot, 0, {0.25f, 0.25f, 0.25f, 0.25f}, 0.0f);
  std::mt19937_64 rng(1);
  tree.add_dirichlet_noise(0.3f, 0.25f, rng);
  float sum = 0.0f;
  bool changed = false;
  for (int b = 0; b < 4; ++b) {
    const float p = tree.node(tree.root().first_child + b).P;
    sum += p;
    changed = changed || std::fabs(p - 0.25f) > 1e-4f;
    CHECK(p >= 0.75f * 0.25f - 1e-6f);  // (1 - epsilon) of the prior always stays
  }
  CHECK(sum == Approx(1.0f));
  CHECK(changed);
}

TEST_CASE("tree reuse keeps the chosen child's subtree and counts its visits") {
  auto game = make_game("tictactoe");
  MctsConfig config;
  config.simulations = 300;
  config.dirichlet_epsilon = 0.0f;
  RolloutEvaluator evaluator(*game, 3);
  GameSearch search(*game, config, 5);
  std::vector<const State*> batch;
  std::vector<float> policy(config.virtual_leaves * 9), value(config.virtual_leaves);
  auto run = [&] {
    while (!search.done()) {
      batch.clear();
      const int n = search.collect_leaves(config.virtual_leaves, &batch);
      if (n > 0) evaluator.evaluate(batch.data(), n, policy.data(), value.data());
      search.complete_leaves(policy.data(), value.data());
    }
  };
  search.begin(config.simulations, false);
  run();
  CHECK(search.tree().root_child_visits() == 300);

  const Action a = search.choose_action(false, 1.0f);
  const SearchTree& tree = search.tree();
  const Node& kept = tree.node(tree.most_visited_child());
  REQUIRE(kept.action == a);
  const uint32_t kept_n = kept.N;
  std::vector<std::pair<Action, uint32_t>> grandchildren;
  for (int b = 0; b < kept.num_children; ++b)
    grandchildren.emplace_back(tree.node(kept.first_child + b).action,
                               tree.node(kept.first_child + b).N);

  const uint64_t sims_before = search.simulations();
  search.advance(a);
  CHECK(search.root_state().move_number() == 1);
  CHECK(search.tree().root().N == kept_n);
  std::vector<std::pair<Action, uint32_t>> after;
  search.root_visits(&after);
  std::vector<std::pair<Action, uint32_t>> expected;
  for (const auto& g : grandchildren)
    if (g.second > 0) expected.push_back(g);
  CHECK(after == expected);

  // The next search only adds what is missing to reach `simulations` below the root.
  search.begin(config.simulations, false);
  run();
  CHECK(search.tree().root_child_visits() == 300);
  CHECK(search.simulations() - sims_before == 300 - (kept_n - 1));
}

TEST_CASE("MctsConfig::validate names the bad field and the allowed range") {
  MctsConfig ok;
  CHECK_NOTHROW(ok.validate());
  auto message = [](MctsConfig c) {
    try {
      c.validate();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  MctsConfig c;
  c.simulations = 0;
  CHECK_THAT(message(c), Catch::Contains("simulations=0") && Catch::Contains("[1, 1000000]"));
  c = MctsConfig();
  c.c_puct = std::nanf("");
  CHECK_THAT(message(c), Catch::Contains("c_puct"));
  c = MctsConfig();
  c.dirichlet_epsilon = 1.5f;
  CHECK_THAT(message(c), Catch::Contains("dirichlet_epsilon"));
  c = MctsConfig();
  c.full_search_prob = 0.5f;  // fast searches need fast_simulations >= 1
  CHECK_THAT(message(c), Catch::Contains("fast_simulations"));
  c.fast_simulations = 300;  // more than simulations
  CHECK_THAT(message(c), Catch::Contains("fast_simulations=300"));
  c = MctsConfig();
  c.random_opening_moves = -1;
  CHECK_THAT(message(c), Catch::Contains("random_opening_moves=-1"));
  c = MctsConfig();
  c.virtual_leaves = 0;
  CHECK_THAT(message(c), Catch::Contains("virtual_leaves"));
  c = MctsConfig();
  c.resign_threshold = 1.0f;
  CHECK_THAT(message(c), Catch::Contains("resign_threshold"));
  c.resign_threshold = -5.0f;  // below -1: resignation off
  CHECK_NOTHROW(c.validate());
  CHECK_FALSE(c.resignation_enabled());
}

}  // namespace rz

namespace rz {

TEST_CASE("collisions in a narrow tree hold their virtual loss for one round only") {
  // Tic-tac-toe two moves from the end: few distinct leaves, so eight walks per round
  // collide. Each round must leave the visit counts consistent and the search must end with
  // exactly `simulations` visits below the root.
  auto game = make_game("tictactoe");
  auto state = game->new_initial_state();
  for (Action a : {0, 1, 2, 4, 3, 5, 7}) state->apply(a);  // O to move: 6 or 8 left
  REQUIRE(state->legal_actions().size() == 2);
  MctsConfig config;
  config.simulations = 50;
  config.virtual_leaves = 8;
  RolloutEvaluator evaluator(*game, 21);
  GameSearch search(*game, config, 22);
  search.set_root(*state);
  search.begin(config.simulations, false);
  std::vector<const State*> batch;
  std::vector<float> policy(8 * 9), value(8);
  int rounds = 0;
  while (!search.done() && rounds < 100) {
    batch.clear();
    const int n = search.collect_leaves(8, &batch);
    CHECK(n <= 2);  // only two positions below the root can ever be evaluated
    if (n > 0) evaluator.evaluate(batch.data(), n, policy.data(), value.data());
    search.complete_leaves(policy.data(), value.data());
    const SearchTree& tree = search.tree();
    CHECK(tree.root().N == 1 + tree.root_child_visits());
    ++rounds;
  }
  CHECK(search.done());
  CHECK(search.tree().root_child_visits() == 50);
  // O must block X's 0-3-6 at 6 (X's last move then draws); 8 loses at once.
  CHECK(search.choose_action(false, 1.0f) == 6);
  const SearchTree& tree = search.tree();
  for (int b = 0; b < tree.root().num_children; ++b) {
    const Node& c = tree.node(tree.root().first_child + b);
    // Every line below the root is decided within two moves, so the values are exact.
    if (c.action == 6) CHECK(c.Q() == 0.0f);
    if (c.action == 8) CHECK(c.Q() == -1.0f);
  }
}

}  // namespace rz

namespace rz {
namespace {

// Runs one search of `simulations` from the initial Connect Four position.
void search_connect4(GameSearch& search, Evaluator& evaluator, int simulations, bool noise) {
  std::vector<const State*> batch;
  std::vector<float> policy(8 * 7), value(8);
  search.begin(simulations, noise);
  while (!search.done()) {
    batch.clear();
    const int n = search.collect_leaves(8, &batch);
    if (n > 0) evaluator.evaluate(batch.data(), n, policy.data(), value.data());
    search.complete_leaves(policy.data(), value.data());
  }
}

}  // namespace

TEST_CASE("root noise is added only when the search asks for it") {
  auto game = make_game("connect4");
  MctsConfig config;
  UniformEvaluator evaluator(*game);
  for (const bool noise : {false, true}) {
    GameSearch search(*game, config, 31);
    search_connect4(search, evaluator, 50, noise);
    const SearchTree& tree = search.tree();
    float min_p = 1.0f, max_p = 0.0f;
    for (int b = 0; b < tree.root().num_children; ++b) {
      min_p = std::min(min_p, tree.node(tree.root().first_child + b).P);
      max_p = std::max(max_p, tree.node(tree.root().first_child + b).P);
    }
    if (noise)
      CHECK(max_p - min_p > 0.01f);
    else
      CHECK(max_p - min_p == 0.0f);  // the uniform prior, untouched
  }
}

TEST_CASE("moves are sampled in proportion to N^(1/temperature), or the most visited") {
  auto game = make_game("connect4");
  MctsConfig config;
  RolloutEvaluator evaluator(*game, 41);
  GameSearch search(*game, config, 42);
  search_connect4(search, evaluator, 400, false);
  const SearchTree& tree = search.tree();
  std::vector<double> share(7, 0.0);
  for (int b = 0; b < tree.root().num_children; ++b)
    share[tree.node(tree.root().first_child + b).action] =
        tree.node(tree.root().first_child + b).N / 400.0;
  const Action most = tree.node(tree.most_visited_child()).action;

  const int draws = 20000;
  std::vector<int> counts(7, 0);
  for (int i = 0; i < draws; ++i) counts[search.choose_action(true, 1.0f)] += 1;
  for (int a = 0; a < 7; ++a) CHECK(counts[a] / double(draws) == Approx(share[a]).margin(0.015));

  int argmax_hits = 0;
  for (int i = 0; i < 1000; ++i) argmax_hits += search.choose_action(false, 1.0f) == most;
  CHECK(argmax_hits == 1000);
  // A low temperature sharpens the distribution towards the most visited move.
  int sharp_hits = 0;
  for (int i = 0; i < 1000; ++i) sharp_hits += search.choose_action(true, 0.1f) == most;
  CHECK(sharp_hits > 900);
  CHECK(share[most] < 0.9);  // ...which plain sampling would not give
}

}  // namespace rz
