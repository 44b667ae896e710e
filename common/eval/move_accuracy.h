// Move accuracy against the Connect Four solver.
//
// A position's labels are its per-column solved scores (Connect4Solver::column_scores).
// For a chosen column:
//   optimal        its score equals the best score (strong: the fastest win / slowest loss);
//   keeps result   its score has the sign of the best (weak: a win stays a win, a draw a draw).
// Only positions where some legal move loses the result count: where every move keeps it,
// any agent scores 100% and the figure would measure the file, not the agent.
//
// Labels are expensive (seven solves per position), so they are cached in a text file
// (LabelCache) next to the run or the positions, validated against the positions file's
// hash and a checksum of its own; a stale or damaged cache is ignored and rewritten
// atomically (tmp file, fsync, rename).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "common/eval/agent.h"
#include "common/game.h"
#include "common/solver/connect4_solver.h"

namespace rz {

struct LabelledPosition {
  int line_number = 0;  // in the positions file
  std::string moves;    // 1-based column digits
  ColumnScores scores;  // Connect4Solver::kInvalidColumn for a full column
};

// The position's score for the side to move: the best column's (full columns never win).
int best_score(const ColumnScores& scores);
// The game-theoretic result for the side to move: +1 won, 0 drawn, -1 lost.
int result_of(const ColumnScores& scores);
bool is_optimal(const ColumnScores& scores, int column);
bool keeps_result(const ColumnScores& scores, int column);
// Some legal column loses the result (the position counts for accuracy).
bool some_move_loses_result(const ColumnScores& scores);

struct LabelLoad {
  std::vector<LabelledPosition> positions;
  bool from_cache = false;
  std::string note;  // why the cache was (not) used, for the report
};

// Labels for the first `limit` positions of `positions_file` (all if limit <= 0): read from
// `cache_path` when it is valid for this file, else solved and written there. A cache that
// cannot be written only adds a note. Throws SolverError for a bad positions file.
LabelLoad load_or_solve_labels(const std::string& positions_file, const std::string& cache_path,
                               int limit, Connect4Solver& solver);

// Writes the cache for the positions file whose whole content is `positions_text`, from labels
// solved elsewhere (make_position_set solves every column on its way), line numbers 1..n;
// load_or_solve_labels then reads it without solving. Throws DurableWriteError naming the path.
void write_label_cache(const std::string& positions_text, const std::string& cache_path,
                       const std::vector<LabelledPosition>& labels);

struct AccuracyResult {
  int positions = 0;  // labelled positions looked at
  int counted = 0;    // ... where some legal move loses the result
  int optimal = 0;    // counted positions where the agent chose an optimal move
  int keeps = 0;      // counted positions where the agent's move keeps the result
  double optimal_fraction() const { return counted ? double(optimal) / counted : 0; }
  double keeps_fraction() const { return counted ? double(keeps) / counted : 0; }
};

// Asks `agent` for a move in every labelled position (`game` must be connect4).
AccuracyResult measure_accuracy(const Game& game, const std::vector<LabelledPosition>& positions,
                                Agent& agent);

// Replays `moves`, one character per action as Game::parse_action reads it (Connect Four:
// 1-based column digits), from the initial state; fills *history with the actions. Throws
// GameError for a bad character, an illegal move or a finished game.
std::unique_ptr<State> state_from_moves(const Game& game, const std::string& moves,
                                        std::vector<Action>* history);

}  // namespace rz
