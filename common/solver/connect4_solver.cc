#include "common/solver/connect4_solver.h"

#include <algorithm>

namespace rz {
namespace {

using Board = Connect4Bitboard;
constexpr int kCells = Board::kCells;
constexpr int kWidth = Board::kWidth;
// Centre columns first: they take part in the most lines.
constexpr int kColumnOrder[kWidth] = {3, 2, 4, 1, 5, 0, 6};

// Transposition-table value encoding (one byte, 0 = empty):
//   upper bound u  ->  u - kMinScore + 1                 in [1, 37]
//   lower bound l  ->  l + kMaxScore - 2 * kMinScore + 2 in [38, 74]
constexpr int kUpperBoundLimit = Board::kMaxScore - Board::kMinScore + 1;
uint8_t encode_upper(int u) {
  // True scores lie in [kMinScore, kMaxScore]; clamping keeps a bound valid, only weaker.
  return static_cast<uint8_t>(std::max(u, Board::kMinScore) - Board::kMinScore + 1);
}
uint8_t encode_lower(int l) {
  return static_cast<uint8_t>(std::min(l, Board::kMaxScore) + Board::kMaxScore -
                              2 * Board::kMinScore + 2);
}

// At most 7 moves, kept sorted by score with insertion sort; ties leave the move added last
// on top, so adding columns in reverse centre order makes the centre win ties.
class MoveSorter {
 public:
  void add(uint64_t move, int score) {
    int pos = size_++;
    for (; pos && entries_[pos - 1].score > score; --pos) entries_[pos] = entries_[pos - 1];
    entries_[pos] = {move, score};
  }
  // The best remaining move, or 0 when none is left.
  uint64_t next() { return size_ ? entries_[--size_].move : 0; }

 private:
  struct Entry {
    uint64_t move;
    int score;
  };
  Entry entries_[kWidth];
  int size_ = 0;
};

}  // namespace

Connect4Bitboard parse_connect4_moves(const std::string& moves) {
  Board board;
  std::string error;
  if (!board.play_sequence(moves, &error)) throw SolverError(error);
  return board;
}

bool Connect4Bitboard::play_sequence(const std::string& moves, std::string* error) {
  for (size_t i = 0; i < moves.size(); ++i) {
    const char ch = moves[i];
    if (ch < '1' || ch > '0' + kWidth) {
      *error = "move " + std::to_string(i + 1) + " of '" + moves + "' is '" + std::string(1, ch) +
               "': moves are column digits 1-7";
      return false;
    }
    const int col = ch - '1';
    if (!can_play(col)) {
      *error = "move " + std::to_string(i + 1) + " of '" + moves + "' plays column " +
               std::string(1, ch) + ", which is full";
      return false;
    }
    if (is_winning_move(col)) {
      *error = "move " + std::to_string(i + 1) + " of '" + moves +
               "' completes four in a row: the position is over, give an open one";
      return false;
    }
    play_col(col);
  }
  return true;
}

Connect4Solver::Connect4Solver(int tt_log2_entries) : table_(tt_log2_entries) {}

void Connect4Solver::reset() {
  table_.reset();
  nodes_ = 0;
}

int Connect4Solver::negamax(const Board& position, int alpha, int beta) {
  // Precondition: alpha < beta and the side to move has no immediate win.
  ++nodes_;
  const uint64_t possible = position.possible_non_losing_moves();
  if (possible == 0) return -(kCells - position.moves()) / 2;  // the opponent wins next move
  if (position.moves() >= kCells - 2) return 0;  // neither side can win in the last 2 moves

  // Nobody wins before the opponent's next stone, nor before our own next-but-one.
  int min = -(kCells - 2 - position.moves()) / 2;
  if (alpha < min) {
    alpha = min;
    if (alpha >= beta) return alpha;
  }
  int max = (kCells - 1 - position.moves()) / 2;
  if (beta > max) {
    beta = max;
    if (alpha >= beta) return beta;
  }

  const uint64_t key = position.key();
  if (const int value = table_.get(key)) {
    if (value > kUpperBoundLimit) {
      min = value + 2 * Board::kMinScore - Board::kMaxScore - 2;
      if (alpha < min) {
        alpha = min;
        if (alpha >= beta) return alpha;
      }
    } else {
      max = value + Board::kMinScore - 1;
      if (beta > max) {
        beta = max;
        if (alpha >= beta) return beta;
      }
    }
  }

  MoveSorter moves;
  for (int i = kWidth; i--;)
    if (const uint64_t move = possible & Board::column_mask(kColumnOrder[i]))
      moves.add(move, position.move_score(move));

  while (const uint64_t move = moves.next()) {
    Board child(position);
    child.play(move);
    const int score = -negamax(child, -beta, -alpha);
    if (score >= beta) {
      table_.put(key, encode_lower(score));  // fail high: score is a lower bound
      return score;
    }
    if (score > alpha) alpha = score;
  }
  table_.put(key, encode_upper(alpha));  // every move searched: alpha is an upper bound
  return alpha;
}

int Connect4Solver::search(const Board& position, int min, int max) {
  // Null-window iterations: each asks "is the score above med?" and halves [min, max]. The
  // mid-point is pulled towards 0 because small absolute scores (late wins, draws) are the
  // common case and the cheap ones to prove.
  while (min < max) {
    int med = min + (max - min) / 2;
    if (med <= 0 && min / 2 < med)
      med = min / 2;
    else if (med >= 0 && max / 2 > med)
      med = max / 2;
    const int r = negamax(position, med, med + 1);
    if (r <= med)
      max = r;
    else
      min = r;
  }
  return min;
}

int Connect4Solver::solve(const Board& position) {
  if (position.can_win_next()) return (kCells + 1 - position.moves()) / 2;
  return search(position, -(kCells - position.moves()) / 2, (kCells + 1 - position.moves()) / 2);
}

int Connect4Solver::solve_weak(const Board& position) {
  if (position.can_win_next()) return 1;
  const int r = search(position, -1, 1);
  return (r > 0) - (r < 0);
}

std::array<int, kWidth> Connect4Solver::column_scores(const Board& position) {
  std::array<int, kWidth> scores;
  for (int col = 0; col < kWidth; ++col) {
    if (!position.can_play(col)) {
      scores[col] = kInvalidColumn;
    } else if (position.is_winning_move(col)) {
      scores[col] = (kCells + 1 - position.moves()) / 2;
    } else {
      Board child(position);
      child.play_col(col);
      scores[col] = -solve(child);
    }
  }
  return scores;
}

std::vector<int> Connect4Solver::optimal_columns(const Board& position) {
  const int best = solve(position);
  std::vector<int> optimal;
  for (int col = 0; col < kWidth; ++col) {
    if (!position.can_play(col)) continue;
    if (position.is_winning_move(col)) {
      if ((kCells + 1 - position.moves()) / 2 == best) optimal.push_back(col);
      continue;
    }
    Board child(position);
    child.play_col(col);
    // The column scores -child_score <= best; it is optimal iff child_score <= -best.
    int child_score;
    if (child.can_win_next()) {
      child_score = (kCells + 1 - child.moves()) / 2;  // we handed the opponent a win
    } else if (child.moves() == kCells) {
      child_score = 0;
    } else {
      // Fail-hard null window around -best: r <= -best proves child_score <= -best.
      child_score = negamax(child, -best, -best + 1);
    }
    if (child_score <= -best) optimal.push_back(col);
  }
  return optimal;
}

}  // namespace rz
