// Exact Connect Four solver: the ground truth for move accuracy and the arena's perfect
// player. Follows Pascal Pons' tutorial solver:
//   - bitboards (connect4_bitboard.h), so a move and the four-in-a-row test are a few ops;
//   - negamax with alpha-beta, never exploring a move that hands the opponent an immediate
//     win (possible_non_losing_moves);
//   - a transposition table holding an upper or a lower bound per position;
//   - move ordering: moves creating the most open threats first, ties broken centre-first;
//   - iterative null-window search: solve() narrows [min, max] with zero-width windows
//     (score <= med?) around a mid-point biased towards 0, which prunes far more than one
//     full-window search.
// Scores are Pons': for the side to move, 0 = draw, 22 - k = it wins with its k-th stone,
// k - 22 = it loses against the opponent's k-th stone.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/solver/connect4_bitboard.h"
#include "common/solver/transposition_table.h"

namespace rz {

// A malformed or illegal move sequence given to the solver (one-line message).
struct SolverError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses a move sequence of 1-based column digits ("4455"); throws SolverError naming the
// bad character or move when a column is out of range, full, or the game is already over.
Connect4Bitboard parse_connect4_moves(const std::string& moves);

// A score per column (0-based index), as column_scores() returns them.
using ColumnScores = std::array<int, Connect4Bitboard::kWidth>;

class Connect4Solver {
 public:
  // Marks a full column in column_scores().
  static constexpr int kInvalidColumn = -1000;

  // The transposition table holds ~2^tt_log2_entries entries of 5 bytes (23: 40 MiB).
  explicit Connect4Solver(int tt_log2_entries = 23);

  // Exact score of an open position for the side to move.
  int solve(const Connect4Bitboard& position);
  int solve(const std::string& moves) { return solve(parse_connect4_moves(moves)); }
  // Only the result: +1 win, 0 draw, -1 loss (a cheaper search with window [-1, 1]).
  int solve_weak(const Connect4Bitboard& position);

  // Score for the side to move of playing each column (0-based index): the negated score of
  // the child, or the immediate-win score; kInvalidColumn for a full column.
  ColumnScores column_scores(const Connect4Bitboard& position);
  ColumnScores column_scores(const std::string& moves) {
    return column_scores(parse_connect4_moves(moves));
  }

  // The optimal columns (0-based, increasing): those whose score equals the position's.
  // Cheaper than column_scores: one solve, then one null-window search per column asking
  // only "does this column reach the best score?".
  std::vector<int> optimal_columns(const Connect4Bitboard& position);

  // Positions searched since construction or the last reset().
  uint64_t nodes() const { return nodes_; }
  // Forgets everything learnt (the transposition table) and the node count.
  void reset();

 private:
  int search(const Connect4Bitboard& position, int min, int max);
  int negamax(const Connect4Bitboard& position, int alpha, int beta);

  TranspositionTable table_;
  uint64_t nodes_ = 0;
};

}  // namespace rz
