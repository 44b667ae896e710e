// Generating Connect Four test positions that measure play, not bookkeeping.
//
// Pons' public sets (../shared/data/connect4) cover the end game and the middle game well but
// few positions with 8-14 stones, where a network trained by self-play is weakest and where
// whole games are decided. make_position_set draws positions by seeded random play at a
// chosen number of stones, solves every legal column with the exact solver, and keeps only
// positions where some legal move changes the game-theoretic result (the ones move accuracy
// counts). The output is a positions file in Pons' format (`<moves> <score>`), so every tool
// that reads his sets reads it too, and the same seed gives the same file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/solver/connect4_solver.h"

namespace rz {

struct PositionSetOptions {
  int count = 1000;     // positions to keep
  int min_stones = 8;   // stones on the board, inclusive range; each count gets an equal
  int max_stones = 30;  // share (round robin), so the early, expensive ones are not skipped
  uint64_t seed = 1;
  // Probability of playing a move that keeps the result (by the solver) instead of a uniformly
  // random one at each ply: 0 = pure random play; higher values give positions from games
  // closer to real ones. Each such move costs a solve of the position on the way.
  double sensible_move_prob = 0.0;
};

struct GeneratedPosition {
  std::string moves;    // 1-based column digits from the empty board
  ColumnScores scores;  // every column's, as solved on the way; the position's score (Pons'
                        // convention) is the best of them (best_score, move_accuracy.h)
};

// Draws positions as described above; calls `progress(kept, tried)` after each kept one.
// Positions are distinct, open (no four in a row, not full) and have no immediate win for the
// side to move (a one-ply win measures nothing). Throws SolverError for inconsistent options,
// or when a stone count yields no position in 100000 draws (a range reaching ~40 stones).
std::vector<GeneratedPosition> make_position_set(
    const PositionSetOptions& options, Connect4Solver& solver,
    const std::function<void(int kept, int tried)>& progress = {});

}  // namespace rz
