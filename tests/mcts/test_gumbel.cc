// The Gumbel AlphaZero root (common/mcts/gumbel_root.h, MctsConfig::gumbel): the sequential
// halving schedule against mctx's, the visits a whole search gives each root move, immediate
// wins and blocks found with few simulations, the improved policy target, and self-play
// games recorded with it that replay and decode.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "common/game.h"
#include "common/mcts/game_search.h"
#include "common/mcts/gumbel_root.h"
#include "common/mcts/mcts_config.h"
#include "common/mcts/mcts_player.h"
#include "common/mcts/rollout_evaluator.h"
#include "common/mcts/selfplay.h"
#include "common/mcts/uniform_evaluator.h"
#include "common/trajectory.h"
#include "tests/support/game_play.h"

namespace rz {
namespace {

using test::play_digits;

MctsConfig gumbel_config(int simulations) {
  MctsConfig config;
  config.simulations = simulations;
  config.gumbel = true;
  return config;
}

// Runs one search of `search` to the end against `evaluator`.
void run_search(GameSearch& search, Evaluator& evaluator, const Game& game, int leaves) {
  std::vector<const State*> batch;
  std::vector<float> policy(static_cast<size_t>(leaves * game.num_actions())), value(leaves);
  for (int round = 0; round < 100000 && !search.done(); ++round) {
    batch.clear();
    const int n = search.collect_leaves(leaves, &batch);
    if (n > 0) evaluator.evaluate(batch.data(), n, policy.data(), value.data());
    search.complete_leaves(policy.data(), value.data());
  }
  REQUIRE(search.done());
}

}  // namespace

TEST_CASE("sequential halving's schedule is mctx's get_sequence_of_considered_visits") {
  std::vector<uint32_t> s;
  considered_visits(1, 5, &s);
  CHECK(s == std::vector<uint32_t>{0, 1, 2, 3, 4});
  considered_visits(2, 8, &s);
  CHECK(s == std::vector<uint32_t>{0, 0, 1, 1, 2, 2, 3, 3});
  considered_visits(4, 8, &s);
  CHECK(s == std::vector<uint32_t>{0, 0, 0, 0, 1, 1, 2, 2});
  considered_visits(16, 32, &s);
  std::vector<uint32_t> expected(16, 0);
  expected.insert(expected.end(), 8, 1);
  for (uint32_t v : {2u, 3u}) expected.insert(expected.end(), 4, v);
  CHECK(s == expected);
  // Connect Four's 7 moves, 40 simulations: 7 x 1 visit, the best 3 up to 5, the best 2 on.
  considered_visits(7, 40, &s);
  REQUIRE(s.size() == 40);
  CHECK(std::count(s.begin(), s.begin() + 7, 0u) == 7);
  CHECK(std::vector<uint32_t>(s.begin() + 7, s.begin() + 10) == std::vector<uint32_t>{1, 1, 1});
  CHECK(s.back() == 15);
}

TEST_CASE("a Gumbel search gives the root moves exactly the schedule's visits, in any rounds") {
  auto game = make_game("connect4");
  RolloutEvaluator evaluator(*game, 3);
  for (int leaves : {1, 8}) {
    for (bool noise : {false, true}) {
      INFO("virtual leaves " << leaves << ", noise " << noise);
      MctsConfig config = gumbel_config(40);
      config.virtual_leaves = leaves;
      GameSearch search(*game, config, 17);
      search.set_root(*game->new_initial_state());
      search.begin(40, noise);
      run_search(search, evaluator, *game, leaves);
      const Node& root = search.tree().root();
      CHECK(root.N - 1 == 40);
      std::vector<uint32_t> visits;
      for (int b = 0; b < root.num_children; ++b)
        visits.push_back(search.tree().node(root.first_child + b).N);
      std::sort(visits.rbegin(), visits.rend());
      // 7 moves x 1, then 3 of them to 5, then 2 of them share the remaining 21 (16 + 15).
      CHECK(visits == std::vector<uint32_t>{16, 15, 5, 1, 1, 1, 1});
      // The move played is one of the two survivors.
      const Action a = search.choose_action(/*sample=*/true, 1.0f);
      uint32_t n_played = 0;
      for (int b = 0; b < root.num_children; ++b)
        if (search.tree().node(root.first_child + b).action == a)
          n_played = search.tree().node(root.first_child + b).N;
      CHECK(n_played >= 15);
    }
  }
}

// With a value of 0 everywhere but at the end of the game, an immediate win is the one move
// whose value is known to be +1 after one visit (random rollouts would tie it with moves that
// won a few lucky playouts), and a non-blocking move the one whose reply wins for the opponent.
TEST_CASE("Gumbel MCTS takes immediate wins with 16 simulations and blocks threats with 200") {
  auto game = make_game("connect4");
  // {moves, the column (1-based) that wins at once or stops the opponent winning next, sims}.
  const std::vector<std::tuple<std::string, int, int>> cases = {
      {"121212", 1, 16}, {"112233", 4, 16}, {"2334544556", 5, 16},  // wins
      {"12121", 1, 200},  {"11223", 4, 200},  {"233454455", 5, 200},  // blocks
  };
  for (const auto& [moves, column, sims] : cases) {
    auto state = play_digits(*game, moves);
    INFO("position " << moves << ", " << sims << " simulations\n" << state->to_string());
    UniformEvaluator evaluator(*game);
    MctsPlayer player(*game, evaluator, gumbel_config(sims), 7);
    CHECK(player.choose(*state) == column - 1);
  }
}

// Found by evaluating with it: in this end-game position (3 legal moves, column 2 the only
// one that does not lose) 200 simulations chose a losing move. A collision's visit given back
// at the end of a round had left the winning move one visit behind the schedule, and a
// schedule read off visit counts (mctx's way) then never visited it again.
TEST_CASE("Gumbel MCTS keeps visiting a move that fell behind the schedule (200 simulations)") {
  auto game = make_game("connect4");
  auto state = play_digits(*game, "335413424327172446337172625415575517");
  REQUIRE(state->legal_actions().size() == 3);
  for (uint64_t seed : {3, 4, 5}) {
    RolloutEvaluator evaluator(*game, seed);
    GameSearch search(*game, gumbel_config(200), seed);
    search.set_root(*state);
    search.begin(200, /*add_noise=*/false);
    run_search(search, evaluator, *game, 8);
    const Node& root = search.tree().root();
    std::vector<uint32_t> visits;
    for (int b = 0; b < root.num_children; ++b)
      visits.push_back(search.tree().node(root.first_child + b).N);
    INFO("seed " << seed << " visits " << visits[0] << " " << visits[1] << " " << visits[2]);
    CHECK(search.choose_action(false, 1.0f) == 1);
    // 3 moves: 33 visits each in the first phase, then the best 2 share the rest.
    std::sort(visits.rbegin(), visits.rend());
    CHECK(visits[2] == 33);
    CHECK(visits[0] - visits[1] <= 1);
  }
}

TEST_CASE("the Gumbel policy target puts most weight on the winning move, every move >= 1") {
  auto game = make_game("connect4");
  auto state = play_digits(*game, "112233");  // column 4 wins at once
  // Value 0 everywhere but at the end of the game (a rollout's single game would make some
  // other moves look won after one visit, and the target would rightly believe it).
  UniformEvaluator evaluator(*game);
  GameSearch search(*game, gumbel_config(32), 9);
  search.set_root(*state);
  search.begin(32, /*add_noise=*/true);
  run_search(search, evaluator, *game, 8);
  std::vector<std::pair<Action, uint32_t>> target;
  search.policy_target(&target);
  REQUIRE(target.size() == state->legal_actions().size());
  uint32_t total = 0, best = 0;
  Action best_action = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (i > 0) CHECK(target[i].first > target[i - 1].first);
    CHECK(target[i].second >= 1);
    total += target[i].second;
    if (target[i].second > best) best = target[i].second, best_action = target[i].first;
  }
  CHECK(total == Approx(10000).margin(10));
  CHECK(best_action == 3);
  CHECK(best > 9000);
  // PUCT's target is the visit counts, summing to the simulations.
  MctsConfig puct = gumbel_config(32);
  puct.gumbel = false;
  GameSearch plain(*game, puct, 9);
  plain.set_root(*state);
  plain.begin(32, true);
  run_search(plain, evaluator, *game, 8);
  plain.policy_target(&target);
  uint32_t visits = 0;
  for (const auto& [a, n] : target) visits += n;
  CHECK(visits == 32);
}

TEST_CASE("Gumbel self-play games replay, encode and decode as training records") {
  for (const char* spec : {"connect4", "dotsandboxes", "tictactoe"}) {
    INFO(spec);
    auto game = make_game(spec);
    RolloutEvaluator evaluator(*game, 21);
    MctsConfig config = gumbel_config(24);
    SelfPlayDriver driver(*game, evaluator, config, 4, 33);
    std::vector<FinishedGame> finished;
    for (int round = 0; round < 100000 && finished.size() < 4; ++round) driver.run_round(&finished);
    REQUIRE(finished.size() >= 4);
    for (const FinishedGame& g : finished) {
      auto state = game->new_initial_state();
      for (const PositionRecord& p : g.positions) {
        REQUIRE(state->is_legal(p.action));
        // Every legal move carries the improved policy's weight (>= 1 in 1/10000).
        CHECK(p.visits.size() == state->legal_actions().size());
        state->apply(p.action);
      }
      REQUIRE(state->is_terminal());
      std::vector<uint8_t> record;
      encode_trajectory(g, TrajectoryOrigin{game_spec_hash(game->spec()), 0, 1}, &record);
      const DecodedTrajectory back = decode_trajectory(record.data(), record.size(), *game);
      CHECK(back.game.positions.size() == g.positions.size());
    }
  }
}

}  // namespace rz
