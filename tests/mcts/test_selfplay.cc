// SelfPlayDriver with the real RolloutEvaluator: legal, replayable games; one batch per round
// with leaves of many games; visit counts; playout cap randomisation; random openings;
// resignation; tree reuse.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "common/game.h"
#include "common/mcts/mcts_config.h"
#include "common/mcts/rollout_evaluator.h"
#include "common/mcts/selfplay.h"

namespace rz {
namespace {

// Delegates to a real RolloutEvaluator and remembers the batch sizes it was given.
class CountingEvaluator : public Evaluator {
 public:
  CountingEvaluator(const Game& game, uint64_t seed) : inner_(game, seed) {}
  void evaluate(const State* const* states, int n, float* policy, float* value) override {
    batch_sizes.push_back(n);
    inner_.evaluate(states, n, policy, value);
    count(n);
  }
  std::vector<int> batch_sizes;

 private:
  RolloutEvaluator inner_;
};

// Runs rounds until `games` games have finished (bounded, so a hang fails instead).
std::vector<FinishedGame> play_games(SelfPlayDriver& driver, size_t games,
                                     std::vector<int>* leaves_per_round = nullptr) {
  std::vector<FinishedGame> finished;
  for (int round = 0; round < 200000 && finished.size() < games; ++round) {
    const int leaves = driver.run_round(&finished);
    if (leaves_per_round) leaves_per_round->push_back(leaves);
  }
  REQUIRE(finished.size() >= games);
  return finished;
}

// Replays a recorded game: every move legal, played by the recorded player, and the
// recorded outcome is the final position's (unless resigned).
void check_replay(const Game& game, const FinishedGame& g) {
  auto state = game.new_initial_state();
  for (const PositionRecord& p : g.positions) {
    REQUIRE_FALSE(state->is_terminal());
    REQUIRE(state->is_legal(p.action));
    REQUIRE(p.player == state->current_player());
    for (const auto& v : p.visits) {
      REQUIRE(state->is_legal(v.first));
      REQUIRE(v.second > 0);
    }
    REQUIRE(std::any_of(p.visits.begin(), p.visits.end(),
                        [&](const auto& v) { return v.first == p.action; }));
    state->apply(p.action);
  }
  if (g.resigned) {
    REQUIRE_FALSE(state->is_terminal());
    REQUIRE(g.returns[0] == -g.returns[1]);
    REQUIRE(std::abs(g.returns[0]) == 1.0f);
  } else {
    REQUIRE(state->is_terminal());
    REQUIRE(g.returns[0] == state->returns(0));
    REQUIRE(g.returns[1] == state->returns(1));
  }
}

// `count` games of self-play against a fresh RolloutEvaluator(evaluator_seed), every one
// replay-checked.
std::vector<FinishedGame> rollout_games(const Game& game, const MctsConfig& config,
                                        uint64_t evaluator_seed, int games_in_flight, uint64_t seed,
                                        size_t count) {
  RolloutEvaluator evaluator(game, evaluator_seed);
  SelfPlayDriver driver(game, evaluator, config, games_in_flight, seed);
  std::vector<FinishedGame> games = play_games(driver, count);
  for (const auto& g : games) check_replay(game, g);
  return games;
}

// Leading moves that were not full searches: the random opening.
size_t opening_length(const FinishedGame& g) {
  size_t k = 0;
  while (k < g.positions.size() && !g.positions[k].full_search) ++k;
  return k;
}

uint32_t visit_sum(const PositionRecord& p) {
  uint32_t s = 0;
  for (const auto& v : p.visits) s += v.second;
  return s;
}

}  // namespace

TEST_CASE("self-play games are legal and full searches hold exactly `simulations` visits") {
  for (const std::string spec : {"tictactoe", "connect4", "dotsandboxes:rows=2,cols=2"}) {
    INFO(spec);
    auto game = make_game(spec);
    MctsConfig config;
    config.simulations = 64;
    config.virtual_leaves = 4;
    CountingEvaluator evaluator(*game, 1);
    SelfPlayDriver driver(*game, evaluator, config, /*games_in_flight=*/6, /*seed=*/2);
    std::vector<int> leaves;
    const auto games = play_games(driver, 12, &leaves);
    size_t moves = 0;
    for (const auto& g : games) {
      check_replay(*game, g);
      CHECK_FALSE(g.resigned);
      CHECK_FALSE(g.resign_disabled);  // resignation is off by default
      for (const auto& p : g.positions) {
        CHECK(p.full_search);
        // Reused visits count towards the budget, so a full search ends at exactly 64.
        CHECK(visit_sum(p) == 64);
        CHECK(p.root_value >= -1.0f);
        CHECK(p.root_value <= 1.0f);
      }
      moves += g.positions.size();
    }
    CHECK(driver.games_finished() >= 12);
    CHECK(driver.moves_played() >= moves);
    // One evaluate() call per round that had leaves, with exactly the leaves of the round.
    std::vector<int> nonzero;
    for (int n : leaves)
      if (n > 0) nonzero.push_back(n);
    CHECK(evaluator.batch_sizes == nonzero);
    // The batches mix leaves of several games: more than one game's worth of leaves.
    CHECK(*std::max_element(evaluator.batch_sizes.begin(), evaluator.batch_sizes.end()) >
          config.virtual_leaves);
    CHECK(std::accumulate(evaluator.batch_sizes.begin(), evaluator.batch_sizes.end(), 0ull) ==
          evaluator.states_evaluated());
  }
}

TEST_CASE("Dots and Boxes self-play records the same player moving twice") {
  auto game = make_game("dotsandboxes:rows=2,cols=2");
  MctsConfig config;
  config.simulations = 48;
  const auto games = rollout_games(*game, config, 3, 4, 4, 8);
  int repeated_turns = 0;
  for (const auto& g : games) {
    for (size_t i = 1; i < g.positions.size(); ++i)
      repeated_turns += g.positions[i].player == g.positions[i - 1].player;
  }
  CHECK(repeated_turns > 0);
}

TEST_CASE("playout cap randomisation marks a fraction of moves as full searches") {
  auto game = make_game("connect4");
  MctsConfig config;
  config.simulations = 60;
  config.full_search_prob = 0.25f;
  config.fast_simulations = 12;
  const auto games = rollout_games(*game, config, 5, 8, 6, 16);
  size_t full = 0, total = 0;
  for (const auto& g : games) {
    for (const auto& p : g.positions) {
      ++total;
      if (p.full_search) {
        ++full;
        CHECK(visit_sum(p) == 60);
      } else {
        // A fast search stops at 12 visits, unless the reused subtree already had more.
        CHECK(visit_sum(p) >= 12);
      }
    }
  }
  INFO(full << " of " << total << " moves were full searches");
  CHECK(total > 200);
  CHECK(full > total * 15 / 100);
  CHECK(full < total * 35 / 100);
}

TEST_CASE("random openings: 0..N unsearched random moves, then searched targets") {
  auto game = make_game("connect4");
  MctsConfig config;
  config.simulations = 16;
  config.random_opening_moves = 10;
  const auto games = rollout_games(*game, config, 7, 8, 8, 120);
  std::vector<int> openings(11, 0);  // games per opening length
  for (const auto& g : games) {
    const size_t k = opening_length(g);
    for (size_t i = 0; i < k; ++i) {
      // A random move: one visit on the move played, no search value.
      REQUIRE(g.positions[i].visits.size() == 1);
      CHECK(g.positions[i].visits[0].first == g.positions[i].action);
      CHECK(g.positions[i].visits[0].second == 1u);
      CHECK(g.positions[i].root_value == 0.0f);
    }
    REQUIRE(k <= 10);
    ++openings[k];
    // The opening never ends the game: every game has searched moves after it, all full.
    REQUIRE(k < g.positions.size());
    for (size_t i = k; i < g.positions.size(); ++i) {
      CHECK(g.positions[i].full_search);
      CHECK(visit_sum(g.positions[i]) == 16);
    }
  }
  // k is uniform in 0..10: with 120 games every length turns up (each misses with p < 1e-4).
  for (int k = 0; k <= 10; ++k) {
    INFO("games with " << k << " random opening moves");
    CHECK(openings[k] > 0);
  }

  // Off by default: every move searched.
  config.random_opening_moves = 0;
  for (const auto& g : rollout_games(*game, config, 7, 8, 8, 16))
    for (const auto& p : g.positions) CHECK(p.full_search);

  // A game shorter than the opening: tic-tac-toe's random moves stop before one would end
  // the game (or before it has no other move), and the game is searched from there.
  auto ttt = make_game("tictactoe");
  config.random_opening_moves = 100;
  int long_openings = 0;
  for (const auto& g : rollout_games(*ttt, config, 9, 4, 10, 40)) {
    const size_t k = opening_length(g);
    CHECK(k <= 8);  // the ninth move always ends the game
    CHECK(k < g.positions.size());
    long_openings += k >= 5;  // past the first move that can win
  }
  CHECK(long_openings > 20);  // k < 5 was drawn with p = 5/101
}

TEST_CASE("resignation: games resign, resign-disabled games play on and report") {
  auto game = make_game("tictactoe");
  MctsConfig config;
  config.simulations = 40;
  config.resign_threshold = 0.99f;  // everyone is "losing": resign at the first full search

  SECTION("every game resigns at once when none is resign-disabled") {
    config.resign_disabled_fraction = 0.0f;
    for (const auto& g : rollout_games(*game, config, 7, 4, 8, 8)) {
      CHECK(g.resigned);
      CHECK_FALSE(g.resign_disabled);
      CHECK(g.positions.empty());
      CHECK(g.returns[0] == -1.0f);  // the first mover resigned
      CHECK(g.returns[1] == 1.0f);
    }
  }

  SECTION("resign-disabled games finish and say whether resigning would have been wrong") {
    config.resign_disabled_fraction = 1.0f;
    int wrong = 0;
    for (const auto& g : rollout_games(*game, config, 9, 4, 10, 20)) {
      CHECK_FALSE(g.resigned);
      CHECK(g.resign_disabled);
      // Player 0 would have resigned first (move 0); wrongly unless player 0 lost.
      CHECK(g.would_have_resigned_wrongly == (g.returns[0] >= 0.0f));
      wrong += g.would_have_resigned_wrongly;
    }
    CHECK(wrong > 0);  // most self-play Tic-tac-toe games are draws
  }

  SECTION("a realistic threshold resigns some games and a fraction never resigns") {
    auto c4 = make_game("connect4");
    config.simulations = 64;
    config.resign_threshold = -0.8f;
    config.resign_disabled_fraction = 0.3f;
    int resigned = 0, disabled = 0;
    for (const auto& g : rollout_games(*c4, config, 11, 8, 12, 40)) {
      CHECK_FALSE((g.resigned && g.resign_disabled));
      if (!g.resign_disabled) CHECK_FALSE(g.would_have_resigned_wrongly);
      resigned += g.resigned;
      disabled += g.resign_disabled;
    }
    CHECK(resigned > 0);
    CHECK(disabled > 0);
    CHECK(disabled < 40);
  }
}

TEST_CASE("tree reuse saves simulations and weight versions are recorded per move") {
  auto game = make_game("connect4");
  uint64_t sims[2];
  uint64_t moves[2];
  for (int reuse = 0; reuse < 2; ++reuse) {
    MctsConfig config;
    config.simulations = 100;
    config.reuse_tree = reuse == 1;
    RolloutEvaluator evaluator(*game, 13);
    SelfPlayDriver driver(*game, evaluator, config, 4, 14);
    std::vector<FinishedGame> finished;
    for (int round = 0; round < 300; ++round) {
      if (round == 150) driver.set_weight_version(7);
      driver.run_round(&finished);
    }
    sims[reuse] = driver.simulations();
    moves[reuse] = driver.moves_played();
    // Versions never go back within a game, and both versions were used.
    bool saw0 = false, saw7 = false;
    for (const auto& g : finished) {
      for (size_t i = 0; i < g.positions.size(); ++i) {
        const uint64_t v = g.positions[i].weight_version;
        saw0 = saw0 || v == 0;
        saw7 = saw7 || v == 7;
        if (i > 0) CHECK(v >= g.positions[i - 1].weight_version);
      }
    }
    CHECK(saw0);
    CHECK(saw7);
  }
  // Same rounds: with reuse each move needs fewer new simulations, so more moves are played.
  INFO("no reuse: " << moves[0] << " moves, reuse: " << moves[1] << " moves");
  CHECK(static_cast<double>(sims[1]) / moves[1] < 0.9 * static_cast<double>(sims[0]) / moves[0]);
}

}  // namespace rz
