// The arena and its agents, through the same library calls ringzero-eval arena makes.
#include <catch2/catch.hpp>

#include <fstream>

#include "common/eval/agent.h"
#include "common/eval/arena.h"
#include "common/solver/connect4_solver.h"
#include "common/solver/position_file.h"

namespace {
const std::string kData = std::string(RZ_SHARED_DATA) + "/connect4/";
}

TEST_CASE("arena: random vs random tic-tac-toe matches the known outcome frequencies") {
  // Both random: first player wins 0.585, second 0.288, draw 0.127 (exact enumeration).
  const auto game = rz::make_game("tictactoe");
  auto a = rz::make_agent("random", *game, 1);
  auto b = rz::make_agent("random", *game, 2);
  const int n = 6000;
  const auto r = rz::play_arena(*game, *a, *b, n);
  REQUIRE(r.games() == n);
  // First-player wins: A's wins as first + B's wins as first (A's losses as second).
  const double first = double(r.wins[0] + r.losses[1]) / n;
  const double second = double(r.losses[0] + r.wins[1]) / n;
  const double draw = double(r.draws[0] + r.draws[1]) / n;
  // 4 standard deviations at n = 6000: 0.026, 0.024, 0.017.
  CHECK(first == Approx(0.585).margin(0.026));
  CHECK(second == Approx(0.288).margin(0.024));
  CHECK(draw == Approx(0.127).margin(0.017));
}

TEST_CASE("arena: minimax is perfect at tic-tac-toe") {
  const auto game = rz::make_game("tictactoe");
  auto perfect = rz::make_agent("minimax", *game, 3);
  auto perfect2 = rz::make_agent("minimax", *game, 4);
  auto random = rz::make_agent("random", *game, 5);
  const auto self = rz::play_arena(*game, *perfect, *perfect2, 20);
  CHECK(self.draws[0] + self.draws[1] == 20);  // tic-tac-toe is a draw
  const auto vs_random = rz::play_arena(*game, *perfect, *random, 200);
  CHECK(vs_random.losses[0] + vs_random.losses[1] == 0);
  INFO("wins as first " << vs_random.wins[0] << ", as second " << vs_random.wins[1]);
  CHECK(vs_random.wins[0] >= 90);  // of 100: random rarely survives as second player
  CHECK(vs_random.wins[1] >= 60);
}

TEST_CASE("arena: rollout MCTS with 200 simulations beats random at Connect Four") {
  const auto game = rz::make_game("connect4");
  auto mcts = rz::make_agent("mcts:200", *game, 6);
  auto random = rz::make_agent("random", *game, 7);
  const auto r = rz::play_arena(*game, *mcts, *random, 20);
  CHECK(r.wins[0] + r.wins[1] >= 18);
  CHECK(r.stats().score >= 0.9);
  WARN("mcts:200 vs random: " << r.wins[0] + r.wins[1] << " wins, " << r.draws[0] + r.draws[1]
                              << " draws, " << r.losses[0] + r.losses[1] << " losses");
}

TEST_CASE("arena: the solver achieves at least the solved result from every opening") {
  // Openings: the first 10 positions of Test_L2_R1, each played with both colours. Whoever
  // the solver is, its result may never be worse than the solved value for its side; solver
  // against solver must reproduce the solved result exactly.
  const auto game = rz::make_game("connect4");
  const auto lines = rz::read_position_file(kData + "Test_L2_R1", true);
  const auto all = rz::read_openings(*game, kData + "Test_L2_R1");
  std::vector<std::vector<rz::Action>> openings(all.begin(), all.begin() + 10);
  auto solver = rz::make_agent("solver", *game, 8);
  auto solver2 = rz::make_agent("solver", *game, 9);
  auto random = rz::make_agent("random", *game, 10);
  const auto sign = [](int v) { return (v > 0) - (v < 0); };
  auto check_game = [&](bool vs_solver) {
    return [&, vs_solver](const rz::ArenaGame& g) {
      const int score = *lines[g.index / 2].score;  // for the player to move at the opening
      const int mover = static_cast<int>(g.opening.size() % 2);
      const int solver_player = g.a_first ? 0 : 1;
      const int expected = sign(solver_player == mover ? score : -score);
      INFO("opening " << lines[g.index / 2].moves << " solver as player " << solver_player);
      if (vs_solver)
        CHECK(static_cast<int>(g.a_return) == expected);
      else
        CHECK(static_cast<int>(g.a_return) >= expected);
    };
  };
  rz::play_arena(*game, *solver, *random, 20, openings, check_game(false));
  rz::play_arena(*game, *solver, *solver2, 20, openings, check_game(true));
}

TEST_CASE("arena: openings and agent specs are validated with one-line errors") {
  const auto game = rz::make_game("connect4");
  CHECK_THROWS_WITH(rz::make_agent("mcts:abc", *game, 1), Catch::Contains("simulations"));
  CHECK_THROWS_WITH(rz::make_agent("mcts:0", *game, 1), Catch::Contains("N >= 1"));
  CHECK_THROWS_WITH(rz::make_agent("alphabeta", *game, 1), Catch::Contains("unknown agent"));
  CHECK_THROWS_WITH(rz::make_agent("minimax", *game, 1), Catch::Contains("use solver"));
  CHECK_THROWS_WITH(rz::make_agent("net:x.rzck", *game, 1), Catch::Contains("cannot load"));
  const auto ttt = rz::make_game("tictactoe");
  CHECK_THROWS_WITH(rz::make_agent("solver", *ttt, 1), Catch::Contains("only connect4"));

  const std::string path = "arena_openings_test.txt";
  {
    std::ofstream out(path);
    out << "4455 18\n44444445\n";
  }
  CHECK_THROWS_WITH(rz::read_openings(*game, path), Catch::Contains(":2: move 7"));
  {
    std::ofstream out(path);
    out << "4455 18\n\n17\n";
  }
  const auto openings = rz::read_openings(*game, path);
  REQUIRE(openings.size() == 2);
  CHECK(openings[0] == std::vector<rz::Action>{3, 3, 4, 4});
  std::remove(path.c_str());
}
