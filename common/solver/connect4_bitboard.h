// Connect Four position as two 64-bit bitboards, after Pascal Pons' solver tutorial.
//
// This is deliberately independent of common/games/connect4.cc: the solver is the ground
// truth the game, the network and the arena are checked against, so it must not share their
// bugs.
//
// Bit layout: column c occupies bits [c * 7, c * 7 + 6); bit c * 7 + r is row r counted from
// the bottom. The 7th bit of each column stays empty, a sentinel that stops shifts from
// leaking into the next column, so the four-in-a-row test is a handful of shifts and ANDs.
//   mask     - every stone on the board;
//   current  - the stones of the player to move.
// key() = current + mask is unique per position (adding mask moves a 1 above each column's
// top stone, which encodes the heights), and fits in 49 bits.
#pragma once

#include <cstdint>
#include <string>

namespace rz {

class Connect4Bitboard {
 public:
  static constexpr int kWidth = 7;
  static constexpr int kHeight = 6;
  static constexpr int kCells = kWidth * kHeight;
  // Scores (Pons' convention, for the side to move): 0 draw; a win with the k-th own stone
  // scores 22 - k, a loss against the opponent's k-th stone scores k - 22.
  static constexpr int kMinScore = -kCells / 2 + 3;       // -18: the earliest possible loss
  static constexpr int kMaxScore = (kCells + 1) / 2 - 3;  // 18: the earliest possible win

  // Plays `moves` (1-based column digits, first player first) from the empty board. Returns
  // false, leaving the board at the last good position and `*error` set, when a character is
  // not a column 1-7, a column is full, or a move ends the game (positions to solve must
  // still be open).
  [[nodiscard]] bool play_sequence(const std::string& moves, std::string* error);

  bool can_play(int col) const { return (mask_ & top_mask_col(col)) == 0; }
  // Plays a legal column (0-based).
  void play_col(int col) { play((mask_ + bottom_mask_col(col)) & column_mask(col)); }
  // Plays one move given as its single bit.
  void play(uint64_t move) {
    current_ ^= mask_;
    mask_ |= move;
    ++moves_;
  }
  // True if playing `col` now makes four in a row for the player to move.
  bool is_winning_move(int col) const { return winning_position() & possible() & column_mask(col); }
  bool can_win_next() const { return winning_position() & possible(); }
  int moves() const { return moves_; }
  uint64_t key() const { return current_ + mask_; }

  // Moves (as a bitmap) that do not hand the opponent an immediate win; 0 when every move
  // loses at once. Precondition: the player to move cannot win immediately.
  uint64_t possible_non_losing_moves() const {
    uint64_t possible_mask = possible();
    const uint64_t opponent_win = opponent_winning_position();
    const uint64_t forced_moves = possible_mask & opponent_win;
    if (forced_moves) {
      if (forced_moves & (forced_moves - 1)) return 0;  // two threats to block: lost
      possible_mask = forced_moves;                     // must block the one threat
    }
    return possible_mask & ~(opponent_win >> 1);  // never play just below an opponent threat
  }
  // Move-ordering heuristic: how many open winning cells the mover has after `move`.
  int move_score(uint64_t move) const {
    return __builtin_popcountll(compute_winning_position(current_ | move, mask_));
  }

  static constexpr uint64_t column_mask(int col) {
    return ((uint64_t{1} << kHeight) - 1) << (col * (kHeight + 1));
  }

 private:
  // One bit at the bottom of each column: 1 + 2^7 + 2^14 + ... (all columns).
  static constexpr uint64_t kBottomMask = 0x0040810204081ULL;
  // Every playable cell (the six lower bits of each column).
  static constexpr uint64_t kBoardMask = kBottomMask * ((uint64_t{1} << kHeight) - 1);

  static constexpr uint64_t top_mask_col(int col) {
    return uint64_t{1} << (kHeight - 1 + col * (kHeight + 1));
  }
  static constexpr uint64_t bottom_mask_col(int col) { return uint64_t{1} << col * (kHeight + 1); }

  uint64_t possible() const { return (mask_ + kBottomMask) & kBoardMask; }
  uint64_t winning_position() const { return compute_winning_position(current_, mask_); }
  uint64_t opponent_winning_position() const {
    return compute_winning_position(current_ ^ mask_, mask_);
  }

  // Empty cells (reachable now or later) that would complete four in a row for `position`.
  static uint64_t compute_winning_position(uint64_t position, uint64_t mask) {
    // Vertical: three stones directly below.
    uint64_t r = (position << 1) & (position << 2) & (position << 3);
    // Horizontal (shift kHeight + 1), then the two diagonals (kHeight and kHeight + 2): for
    // each direction the empty cell can be at any of the four places of the line.
    for (const int s : {kHeight + 1, kHeight, kHeight + 2}) {
      uint64_t p = (position << s) & (position << 2 * s);
      r |= p & (position << 3 * s);
      r |= p & (position >> s);
      p = (position >> s) & (position >> 2 * s);
      r |= p & (position << s);
      r |= p & (position >> 3 * s);
    }
    return r & (kBoardMask ^ mask);
  }

  uint64_t current_ = 0;
  uint64_t mask_ = 0;
  int moves_ = 0;
};

}  // namespace rz
