// Tic-tac-toe against its well-known census: 255,168 possible games (131,184 won by the
// first player, 77,904 by the second, 46,080 drawn) and 5,478 reachable positions
// (including the empty board). Both come from a full walk of the game tree through the
// public interface.
#include <catch2/catch.hpp>

#include <set>
#include <unordered_set>

#include "common/game.h"
#include "tests/support/game_play.h"

namespace rz {
namespace {

struct Census {
  long games = 0, first_wins = 0, second_wins = 0, draws = 0;
  std::unordered_set<uint64_t> hashes;
  std::set<std::vector<float>> observations;  // with the mover, an independent position key
};

void walk(const State& state, Census& census) {
  census.hashes.insert(state.hash());
  std::vector<float> obs(18);
  state.observe(obs.data());
  obs.push_back(static_cast<float>(state.current_player()));
  census.observations.insert(obs);
  if (state.is_terminal()) {
    ++census.games;
    const float r = state.returns(0);
    (r > 0 ? census.first_wins : r < 0 ? census.second_wins : census.draws)++;
    return;
  }
  for (Action a : state.legal_actions()) {
    auto next = state.clone();
    next->apply(a);
    walk(*next, census);
  }
}

using test::play_digits;

}  // namespace

TEST_CASE("tic-tac-toe: the game tree has 255,168 games and 5,478 positions",
          "[games][tictactoe]") {
  const auto game = make_game("tictactoe");
  Census census;
  walk(*game->new_initial_state(), census);
  CHECK(census.games == 255168);
  CHECK(census.first_wins == 131184);
  CHECK(census.second_wins == 77904);
  CHECK(census.draws == 46080);
  CHECK(census.observations.size() == 5478);
  CHECK(census.hashes.size() == 5478);  // the hash separates every reachable position
}

TEST_CASE("tic-tac-toe: hand-checked games", "[games][tictactoe]") {
  const auto game = make_game("tictactoe");
  // X: 1 2 3 across the top.
  auto s = play_digits(*game, "14253");
  CHECK(s->is_terminal());
  CHECK(s->returns(0) == 1.0f);
  CHECK(s->returns(1) == -1.0f);
  // O takes the 3-5-7 diagonal.
  s = play_digits(*game, "13459");
  CHECK_FALSE(s->is_terminal());
  s = play_digits(*game, "134597");
  CHECK(s->is_terminal());
  CHECK(s->returns(1) == 1.0f);
  // X O X / X O O / O X X: a full-board draw.
  s = play_digits(*game, "123547869");
  CHECK(s->is_terminal());
  CHECK(s->returns(0) == 0.0f);
  CHECK(s->to_string() == "X O X\nX O O\nO X X\n");
  // Transpositions share a hash; who owns a cell matters.
  CHECK(play_digits(*game, "159")->hash() == play_digits(*game, "951")->hash());
  CHECK(play_digits(*game, "12")->hash() != play_digits(*game, "21")->hash());
}

}  // namespace rz
