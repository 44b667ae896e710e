// The Connect Four solver against Pons' published exact scores (../shared/data/connect4).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "common/solver/connect4_solver.h"
#include "common/solver/position_file.h"

namespace {

const std::string kData = std::string(RZ_SHARED_DATA) + "/connect4/";

// Every `step`-th position of a file (all of them for step 1), at most `count`.
void check_file(rz::Connect4Solver& solver, const std::string& name, size_t step, size_t count) {
  const auto lines = rz::read_position_file(kData + name, /*require_score=*/true);
  REQUIRE(lines.size() == 1000);
  size_t checked = 0;
  for (size_t i = 0; i < lines.size() && checked < count; i += step, ++checked) {
    INFO(name << ":" << lines[i].line_number << " " << lines[i].moves);
    REQUIRE(solver.solve(lines[i].moves) == *lines[i].score);
  }
  CHECK(checked == std::min(count, (lines.size() + step - 1) / step));
}

}  // namespace

TEST_CASE("solver: every end-game position of Test_L3_R1 gets its exact score") {
  rz::Connect4Solver solver(20);
  check_file(solver, "Test_L3_R1", 1, 1000);
}

TEST_CASE("solver: every middle-game position of Test_L2_R1 gets its exact score") {
  rz::Connect4Solver solver(22);
  check_file(solver, "Test_L2_R1", 1, 1000);
}

TEST_CASE("solver: a spread sample of Test_L2_R2 (middle-game, medium) is exact") {
  rz::Connect4Solver solver(23);
  check_file(solver, "Test_L2_R2", 10, 100);  // lines 1, 11, 21, ...
}

TEST_CASE("solver: a spread sample of Test_L1_R1 (openings) is exact") {
  rz::Connect4Solver solver(23);
  check_file(solver, "Test_L1_R1", 5, 200);  // lines 1, 6, 11, ...
}

TEST_CASE("solver: per-column scores of the README example 4455") {
  rz::Connect4Solver solver(23);
  const std::array<int, 7> expected{-4, -3, 18, 2, 2, 18, -3};
  CHECK(solver.column_scores("4455") == expected);
  // Negamax consistency: the position's score is the best column score.
  CHECK(solver.solve("4455") == 18);
}

TEST_CASE("solver: column scores agree with the child positions' scores") {
  rz::Connect4Solver solver(22);
  const auto lines = rz::read_position_file(kData + "Test_L2_R1", true);
  for (size_t i = 0; i < lines.size(); i += 100) {
    const auto scores = solver.column_scores(lines[i].moves);
    int best = rz::Connect4Solver::kInvalidColumn;
    for (int s : scores) best = std::max(best, s);
    INFO(lines[i].moves);
    CHECK(best == *lines[i].score);
  }
}

TEST_CASE("solver: optimal columns are exactly the best column scores") {
  rz::Connect4Solver solver(22);
  int positions = 0;
  // (Per-column scores of openings take seconds each: the middle and end game suffice.)
  for (const char* name : {"Test_L3_R1", "Test_L2_R1"}) {
    const auto lines = rz::read_position_file(kData + name, true);
    for (size_t i = 0; i < lines.size(); i += 10, ++positions) {
      const auto board = rz::parse_connect4_moves(lines[i].moves);
      const auto scores = solver.column_scores(board);
      const int best = *std::max_element(scores.begin(), scores.end());
      std::vector<int> expected;
      for (int c = 0; c < 7; ++c)
        if (scores[c] == best) expected.push_back(c);
      INFO(name << " " << lines[i].moves);
      CHECK(solver.optimal_columns(board) == expected);
    }
  }
  CHECK(positions == 200);
  // README example: columns 3 and 6 win fastest.
  CHECK(solver.optimal_columns(rz::parse_connect4_moves("4455")) == std::vector<int>{2, 5});
}

TEST_CASE("solver: immediate wins, full columns and the weak solve") {
  rz::Connect4Solver solver(20);
  // First player has three in the bottom row (columns 1-3), the second three in column 7:
  // column 4 wins at once with 6 stones on the board: (43 - 6) / 2 = 18.
  CHECK(solver.solve("172737") == 18);
  // Playing column 1 instead lets the second player win at once with its 4th stone:
  // 4 - 22 = -18 for the first player.
  CHECK(solver.solve("1727371") == 18);
  // Column 1 of this Test_L3_R1 position is full: marked invalid; the best column score is
  // the position's score (-1).
  const auto full = solver.column_scores("2252576253462244111563365343671351441");
  CHECK(full[0] == rz::Connect4Solver::kInvalidColumn);
  CHECK(*std::max_element(full.begin(), full.end()) == -1);
  // The weak solve gives the sign of the strong one.
  const auto lines = rz::read_position_file(kData + "Test_L2_R1", true);
  for (size_t i = 0; i < lines.size(); i += 50) {
    const int s = *lines[i].score;
    CHECK(solver.solve_weak(rz::parse_connect4_moves(lines[i].moves)) == (s > 0) - (s < 0));
  }
  CHECK(solver.nodes() > 0);
  solver.reset();
  CHECK(solver.nodes() == 0);
}

TEST_CASE("solver: malformed and illegal move sequences are refused with the move number") {
  rz::Connect4Solver solver(18);
  CHECK_THROWS_WITH(solver.solve("448"), Catch::Contains("move 3") && Catch::Contains("1-7"));
  CHECK_THROWS_WITH(solver.solve("1111111"), Catch::Contains("move 7") && Catch::Contains("full"));
  // 1212121: the first player's 4th stone in column 1 wins: the game is over.
  CHECK_THROWS_WITH(solver.solve("1212121"), Catch::Contains("move 7") && Catch::Contains("over"));
  CHECK_THROWS_AS(rz::read_position_file(kData + "does-not-exist", false), rz::SolverError);
}
