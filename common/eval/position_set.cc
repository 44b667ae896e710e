#include "common/eval/position_set.h"

#include <fmt/format.h>

#include <random>
#include <unordered_set>

#include "common/eval/move_accuracy.h"

namespace rz {
namespace {

// Plays `stones` moves from the empty board; none may win (the game must stay open), and the
// final position must offer the side to move no immediate win. Returns "" when the random walk
// ran into a dead end (the caller draws again).
std::string random_walk(int stones, double sensible_move_prob, std::mt19937_64& rng,
                        Connect4Solver& solver) {
  Connect4Bitboard board;
  std::string moves;
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  for (int ply = 0; ply < stones; ++ply) {
    std::vector<int> open;  // columns that keep the game open
    for (int col = 0; col < Connect4Bitboard::kWidth; ++col)
      if (board.can_play(col) && !board.is_winning_move(col)) open.push_back(col);
    if (open.empty()) return "";
    std::vector<int> choices = open;
    if (sensible_move_prob > 0 && coin(rng) < sensible_move_prob && !board.can_win_next()) {
      const auto scores = solver.column_scores(board);
      std::vector<int> keeping;
      for (int col : open)
        if (keeps_result(scores, col)) keeping.push_back(col);
      if (!keeping.empty()) choices = keeping;
    }
    const int col = choices[std::uniform_int_distribution<size_t>(0, choices.size() - 1)(rng)];
    board.play_col(col);
    moves.push_back(static_cast<char>('1' + col));
  }
  if (board.can_win_next()) return "";
  return moves;
}

// Random draws for one position before its stone count is declared out of reach.
constexpr int kMaxDrawsPerPosition = 100000;

}  // namespace

std::vector<GeneratedPosition> make_position_set(
    const PositionSetOptions& options, Connect4Solver& solver,
    const std::function<void(int kept, int tried)>& progress) {
  constexpr int kCells = Connect4Bitboard::kWidth * Connect4Bitboard::kHeight;
  if (options.count < 1 || options.min_stones < 0 || options.max_stones >= kCells ||
      options.min_stones > options.max_stones)
    throw SolverError(fmt::format(
        "position set: need count >= 1 and 0 <= min_stones <= max_stones < {} (got {}, {}-{})",
        kCells, options.count, options.min_stones, options.max_stones));
  if (!(options.sensible_move_prob >= 0 && options.sensible_move_prob <= 1))
    throw SolverError("position set: sensible_move_prob must be in [0, 1]");

  std::mt19937_64 rng(options.seed);
  std::unordered_set<std::string> seen;
  std::vector<GeneratedPosition> kept;
  const int span = options.max_stones - options.min_stones + 1;
  int tried = 0, tried_here = 0;
  for (int slot = 0; static_cast<int>(kept.size()) < options.count; ++tried) {
    const int stones = options.min_stones + slot % span;
    if (++tried_here > kMaxDrawsPerPosition)
      throw SolverError(fmt::format(
          "position set: no position of {} stones qualified in {} random draws: lower the "
          "upper end of the stone range (boards that full rarely leave a move that matters)",
          stones, kMaxDrawsPerPosition));
    const std::string moves = random_walk(stones, options.sensible_move_prob, rng, solver);
    if (moves.empty() || !seen.insert(moves).second) continue;
    const auto scores = solver.column_scores(parse_connect4_moves(moves));
    if (!some_move_loses_result(scores)) continue;
    kept.push_back({moves, scores});
    ++slot;  // the next stone count only once this one has its position
    tried_here = 0;
    if (progress) progress(static_cast<int>(kept.size()), tried + 1);
  }
  return kept;
}

}  // namespace rz
