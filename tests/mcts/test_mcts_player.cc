// MctsPlayer with the rollout evaluator (plain MCTS): immediate wins and blocks in Connect
// Four, never losing Tic-tac-toe to perfect play, and Dots and Boxes positions where taking
// a box gives the same player another move.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/game.h"
#include "common/mcts/mcts_config.h"
#include "common/mcts/mcts_player.h"
#include "common/mcts/rollout_evaluator.h"
#include "tests/support/game_play.h"

namespace rz {
namespace {

using test::play_digits;  // Connect Four "1213": one column digit (1 = leftmost) per move
using test::play_text;

MctsConfig player_config(int simulations) {
  MctsConfig config;
  config.simulations = simulations;
  config.dirichlet_epsilon = 0.0f;  // a match player: no root noise
  return config;
}

// Perfect Tic-tac-toe: negamax value for the player to move (+1 win, 0 draw, -1 loss) of a
// non-terminal position, memoised by position hash.
int negamax(const State& s);

// The perfect-play value of move `a` for the player making it.
int move_value(const State& s, Action a) {
  auto child = s.clone();
  child->apply(a);
  // Tic-tac-toe alternates, and a terminal child's returns are taken for the mover.
  return child->is_terminal() ? static_cast<int>(child->returns(s.current_player()))
                              : -negamax(*child);
}

int negamax(const State& s) {
  static std::unordered_map<uint64_t, int> memo;
  const auto it = memo.find(s.hash());
  if (it != memo.end()) return it->second;
  int best = -2;
  for (Action a : s.legal_actions()) best = std::max(best, move_value(s, a));
  memo.emplace(s.hash(), best);
  return best;
}

// A perfect player that picks uniformly among the optimal moves.
Action minimax_move(const State& s, std::mt19937_64& rng) {
  std::vector<Action> best;
  int best_value = -2;
  for (Action a : s.legal_actions()) {
    const int v = move_value(s, a);
    if (v > best_value) {
      best_value = v;
      best.clear();
    }
    if (v == best_value) best.push_back(a);
  }
  return best[std::uniform_int_distribution<size_t>(0, best.size() - 1)(rng)];
}

}  // namespace

TEST_CASE("MCTS with rollouts takes the unique immediate win in Connect Four") {
  auto game = make_game("connect4");
  // {moves, the winning column (1-based)}; in each the win is the only winning move.
  const std::vector<std::pair<std::string, int>> cases = {
      {"121212", 1},      // vertical in column 1 (the opponent threatens column 2 too)
      {"112233", 4},      // bottom row 1-2-3, complete with 4
      {"2334544556", 5},  // diagonal
  };
  for (const auto& [moves, column] : cases) {
    auto state = play_digits(*game, moves);
    // Make sure the case is what it claims: exactly one move wins at once.
    int winning = 0;
    for (Action a : state->legal_actions()) {
      auto child = state->clone();
      child->apply(a);
      if (child->is_terminal() && child->returns(state->current_player()) > 0) {
        ++winning;
        CHECK(a == column - 1);
      }
    }
    INFO("position " << moves << "\n" << state->to_string());
    REQUIRE(winning == 1);
    RolloutEvaluator evaluator(*game, 11);
    MctsPlayer player(*game, evaluator, player_config(400), 7);
    float value = 0.0f;
    CHECK(player.choose(*state, nullptr, &value) == column - 1);
    CHECK(value > 0.5f);
  }
}

TEST_CASE("MCTS with rollouts blocks the unique immediate threat in Connect Four") {
  auto game = make_game("connect4");
  // {moves, the only column that stops the opponent winning next move}.
  const std::vector<std::pair<std::string, int>> cases = {
      {"12121", 1},      // X threatens vertical in column 1
      {"11223", 4},      // X threatens the bottom row at 4
      {"233454455", 5},  // X threatens the diagonal 2-3-4-5
  };
  for (const auto& [moves, column] : cases) {
    auto state = play_digits(*game, moves);
    const int me = state->current_player();
    // Check the case: no immediate win for the mover, and exactly one move after which the
    // opponent has no immediate win.
    int safe = 0;
    bool can_win = false;
    for (Action a : state->legal_actions()) {
      auto child = state->clone();
      child->apply(a);
      if (child->is_terminal()) {
        can_win = can_win || child->returns(me) > 0;
        continue;
      }
      bool opponent_wins = false;
      for (Action b : child->legal_actions()) {
        auto grandchild = child->clone();
        grandchild->apply(b);
        opponent_wins = opponent_wins || (grandchild->is_terminal() && grandchild->returns(me) < 0);
      }
      if (!opponent_wins) {
        ++safe;
        CHECK(a == column - 1);
      }
    }
    INFO("position " << moves << "\n" << state->to_string());
    REQUIRE_FALSE(can_win);
    REQUIRE(safe == 1);
    RolloutEvaluator evaluator(*game, 13);
    MctsPlayer player(*game, evaluator, player_config(800), 9);
    CHECK(player.choose(*state) == column - 1);
  }
}

TEST_CASE("MCTS with rollouts never loses Tic-tac-toe to a perfect player") {
  // Random rollouts misjudge some traps (after X plays an edge, the adjacent corner loses to
  // a fork five plies deep); 1000 simulations, 4 rollouts per leaf and a wider c_puct find
  // them reliably (0 losses in 200 games while tuning; 1 rollout or c_puct 1.5 lost some).
  auto game = make_game("tictactoe");
  MctsConfig config = player_config(1000);
  config.c_puct = 3.0f;
  int draws = 0, wins = 0;
  for (int g = 0; g < 100; ++g) {  // 50 games as each side
    const int mcts_side = g % 2;
    RolloutEvaluator evaluator(*game, 100 + g, /*rollouts=*/4);
    MctsPlayer player(*game, evaluator, config, 200 + g);
    std::mt19937_64 rng(300 + g);
    auto state = game->new_initial_state();
    while (!state->is_terminal()) {
      const Action a =
          state->current_player() == mcts_side ? player.choose(*state) : minimax_move(*state, rng);
      REQUIRE(state->is_legal(a));
      state->apply(a);
    }
    INFO("game " << g << ", MCTS plays " << (mcts_side == 0 ? "X" : "O") << "\n"
                 << state->to_string());
    REQUIRE(state->returns(mcts_side) >= 0.0f);
    (state->returns(mcts_side) > 0 ? wins : draws) += 1;
  }
  CHECK(wins == 0);  // a perfect opponent never loses
  CHECK(draws == 100);
}

TEST_CASE("Dots and Boxes: taking a box and moving again is backed up for the same player") {
  // 1x2 boxes. Edges: h00=0 h01=1 h10=2 h11=3 (horizontal), v00=4 v01=5 v02=6 (vertical).
  // Box 0 = {h00, h10, v00, v01}, box 1 = {h01, h11, v01, v02}.
  auto game = make_game("dotsandboxes:rows=1,cols=2");

  SECTION("take both boxes with two moves in a row") {
    // Drawn: h00 h10 v00 (box 0 has three sides) and h01 h11; B (player 1) to move. v01
    // takes box 0 AND gives box 1 its third side; the mover moves again and takes box 1 with
    // v02: +1. Playing v02 first hands both boxes to the opponent: -1.
    auto state = play_text(*game, {"h 0 0", "h 1 0", "v 0 0", "h 0 1", "h 1 1"});
    const int me = state->current_player();
    RolloutEvaluator evaluator(*game, 17);
    MctsPlayer player(*game, evaluator, player_config(200), 3);
    std::vector<uint32_t> visits;
    float value = 0.0f;
    const Action a = player.choose(*state, &visits, &value);
    CHECK(game->action_to_string(a) == "v 0 1");
    // Every line here ends in a terminal position seen exactly (the rollouts from the two
    // inner nodes have a single line each), so the values are exact: a 2-0 win.
    CHECK(value > 0.8f);  // the root value also averages the few visits to the loss
    const SearchTree& tree = player.last_tree();
    for (int b = 0; b < tree.root().num_children; ++b) {
      const Node& c = tree.node(tree.root().first_child + b);
      REQUIRE(c.N > 0);
      if (game->action_to_string(c.action) == "v 0 1") {
        CHECK(static_cast<int>(c.player) == me);  // the mover moves again after taking the box
        CHECK(c.Q() == Approx(1.0f));
      } else {
        CHECK(static_cast<int>(c.player) == 1 - me);
        CHECK(c.Q() == Approx(-1.0f));
      }
    }
  }

  SECTION("take the box, then choose: the best result is a draw") {
    // Drawn: h00 h10 v00 and h01; A to move. Taking box 0 (v01) leaves A to move again with
    // h11 and v02 left; either gives box 1 to B: 1-1. Not taking loses 0-2.
    auto state = play_text(*game, {"h 0 0", "h 1 0", "v 0 0", "h 0 1"});
    REQUIRE(state->current_player() == 0);
    RolloutEvaluator evaluator(*game, 19);
    MctsPlayer player(*game, evaluator, player_config(400), 5);
    float value = 1.0f;
    const Action a = player.choose(*state, nullptr, &value);
    CHECK(game->action_to_string(a) == "v 0 1");
    CHECK(value > -0.5f);
    CHECK(value < 0.25f);
    const SearchTree& tree = player.last_tree();
    const Node& best = tree.node(tree.most_visited_child());
    CHECK(static_cast<int>(best.player) == 0);
    CHECK(best.Q() == Approx(0.0f).margin(1e-6));  // every line after v01 is an exact draw
  }
}

}  // namespace rz

namespace rz {

// Tree reuse between moves: two players alternate in one Connect Four game; each search
// after the first starts from the subtree below its own move and the opponent's reply.
TEST_CASE("MctsPlayer reuses the subtree below its move and the reply", "[mcts][reuse]") {
  auto game = make_game("connect4");
  for (bool reuse : {true, false}) {
    MctsConfig config;
    config.simulations = 200;
    config.dirichlet_epsilon = 0.0f;
    config.reuse_tree = reuse;
    RolloutEvaluator eval_a(*game, 1), eval_b(*game, 2);
    MctsPlayer a(*game, eval_a, config, 3), b(*game, eval_b, config, 4);
    auto state = game->new_initial_state();
    int reused = 0, moves_by_a = 0;
    uint64_t evaluated_before = 0;
    for (int ply = 0; ply < 12 && !state->is_terminal(); ++ply) {
      MctsPlayer& p = ply % 2 == 0 ? a : b;
      std::vector<uint32_t> visits;
      const Action move = p.choose(*state, &visits);
      uint32_t total = 0;
      for (uint32_t v : visits) total += v;
      CHECK(total >= 200u);  // inherited visits count towards the budget
      if (ply % 2 == 0) {
        ++moves_by_a;
        reused += a.last_search_reused();
      }
      REQUIRE(state->is_legal(move));
      state->apply(move);
    }
    evaluated_before = eval_a.states_evaluated();
    if (reuse) {
      CHECK(reused == moves_by_a - 1);  // every search but the first
      // Fewer new leaves than 200 per search: the inherited visits were not searched again.
      CHECK(evaluated_before < uint64_t(200) * moves_by_a - 100);
    } else {
      CHECK(reused == 0);
    }
    // An unrelated position (another game's) starts from an empty tree.
    auto other = game->new_initial_state();
    for (Action m : {6, 6, 6, 5}) other->apply(m);
    a.choose(*other);
    CHECK_FALSE(a.last_search_reused());
  }
}

}  // namespace rz
