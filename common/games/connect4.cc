// Connect Four, 7 columns x 6 rows, on bitboards (John Tromp / Pascal Pons layout).
//
// Board: one uint64 bit per cell, 7 bits per column (6 cells + 1 sentinel bit on top, so that
// shifts never carry a line from one column into the next), bit = column * 7 + row, row 0 at
// the bottom. A position is two words:
//   mask     - every stone on the board;
//   position - the stones of the player to move (the opponent's are mask ^ position).
// Playing column c adds the lowest free bit of the column: mask + bottom(c) carries up the
// column's filled run into exactly that bit. position ^= mask first hands the move over.
// position + mask is a unique key (Pons): per column it is 2^height - 1 + (stones of the mover),
// distinct for every (height, stones) and below the sentinel, so it doubles as the hash.
//
// Actions: the column, 0..6 (human text "1".."7", 1 = leftmost).
// Observation: 2 planes x 6 rows x 7 columns from the mover's view: plane 0 the mover's stones,
// plane 1 the opponent's; row 0 is the top row as printed by to_string().
// Symmetries: identity and the left-right mirror (column c <-> 6 - c).
#include <fmt/format.h>

#include <cassert>
#include <cstdint>
#include <utility>

#include "common/game.h"

namespace rz {
namespace {

constexpr int kWidth = 7;
constexpr int kHeight = 6;
constexpr int kCells = kWidth * kHeight;
constexpr int kColumnBits = kHeight + 1;  // + sentinel

constexpr uint64_t bottom_bit(int col) {
  return uint64_t{1} << (col * kColumnBits);
}
constexpr uint64_t top_bit(int col) {
  return uint64_t{1} << (col * kColumnBits + kHeight - 1);
}
constexpr uint64_t cell_bit(int col, int row) {
  return uint64_t{1} << (col * kColumnBits + row);
}

// True when `stones` holds four in a row in any direction. For a direction whose neighbour is
// `shift` bits away, m = stones & (stones >> shift) marks the starts of pairs, and
// m & (m >> 2 * shift) the starts of fours. Sentinel bits are never stones, which stops
// vertical and diagonal runs from wrapping into the next column.
bool has_four(uint64_t stones) {
  for (int shift : {1, kColumnBits - 1, kColumnBits, kColumnBits + 1}) {
    const uint64_t m = stones & (stones >> shift);
    if (m & (m >> (2 * shift))) return true;
  }
  return false;
}

class Connect4State final : public State {
 public:
  std::unique_ptr<State> clone() const override { return std::make_unique<Connect4State>(*this); }
  void copy_from(const State& other) override {
    assert(dynamic_cast<const Connect4State*>(&other) != nullptr);
    *this = static_cast<const Connect4State&>(other);
  }
  int current_player() const override { return moves_ % 2; }
  bool is_terminal() const override { return won_ || moves_ == kCells; }
  int num_actions() const override { return kWidth; }
  void legal_mask(uint8_t* mask) const override {
    const bool over = is_terminal();
    for (int c = 0; c < kWidth; ++c) mask[c] = !over && can_play(c);
  }
  float returns(int player) const override {
    if (!won_) return 0.0f;
    const int winner = (moves_ - 1) % 2;
    return winner == player ? 1.0f : -1.0f;
  }
  void observe(float* out) const override {
    const uint64_t mine = position_, theirs = position_ ^ mask_;
    for (int row = 0; row < kHeight; ++row) {
      for (int col = 0; col < kWidth; ++col) {
        const int i = (kHeight - 1 - row) * kWidth + col;  // row 0 of the planes is the top
        const uint64_t b = cell_bit(col, row);
        out[i] = (mine & b) ? 1.0f : 0.0f;
        out[kCells + i] = (theirs & b) ? 1.0f : 0.0f;
      }
    }
  }
  int move_number() const override { return moves_; }
  std::string to_string() const override {
    // X moved first. position_ belongs to the mover, so X's stones depend on parity.
    const uint64_t x = moves_ % 2 == 0 ? position_ : position_ ^ mask_;
    std::string s;
    for (int row = kHeight - 1; row >= 0; --row) {
      for (int col = 0; col < kWidth; ++col) {
        const uint64_t b = cell_bit(col, row);
        s += !(mask_ & b) ? '.' : (x & b) ? 'X' : 'O';
        s += col + 1 < kWidth ? ' ' : '\n';
      }
    }
    s += "1 2 3 4 5 6 7\n";
    if (won_)
      s += fmt::format("{} wins\n", (moves_ - 1) % 2 == 0 ? 'X' : 'O');
    else if (moves_ == kCells)
      s += "draw\n";
    else
      s += fmt::format("{} to move\n", moves_ % 2 == 0 ? 'X' : 'O');
    return s;
  }
  uint64_t hash() const override { return position_ + mask_; }

 private:
  void do_apply(Action a) override {
    position_ ^= mask_;
    mask_ |= mask_ + bottom_bit(a);
    ++moves_;
    // Only the player who just moved can have completed a line.
    won_ = has_four(position_ ^ mask_);
  }
  bool can_play(int col) const { return (mask_ & top_bit(col)) == 0; }

  uint64_t position_ = 0;  // stones of the player to move
  uint64_t mask_ = 0;      // all stones
  int moves_ = 0;
  bool won_ = false;  // the player who made the last move has four in a row
};

class Connect4 final : public Game {
 public:
  std::string spec() const override { return "connect4"; }
  std::string name() const override { return "connect4"; }
  int num_actions() const override { return kWidth; }
  ObservationShape observation_shape() const override { return {2, kHeight, kWidth}; }
  int max_game_length() const override { return kCells; }
  std::unique_ptr<State> new_initial_state() const override {
    return std::make_unique<Connect4State>();
  }
  int num_symmetries() const override { return 2; }
  void apply_symmetry(int sym, float* observation, float* policy) const override {
    assert(sym >= 0 && sym < 2);
    if (sym == 0) return;
    // Mirror: swap column c with column 6 - c in every row of every plane, and in the policy.
    if (observation)
      for (int line = 0; line < 2 * kHeight; ++line)
        for (int c = 0; c < kWidth / 2; ++c)
          std::swap(observation[line * kWidth + c], observation[line * kWidth + kWidth - 1 - c]);
    if (policy)
      for (int c = 0; c < kWidth / 2; ++c) std::swap(policy[c], policy[kWidth - 1 - c]);
  }
  std::string action_to_string(Action a) const override { return digit_action_to_string(a); }
  Action parse_action(const std::string& text) const override {
    return parse_digit_action(text, kWidth, "column", "1 is the leftmost column");
  }
};

}  // namespace

std::unique_ptr<Game> make_connect4(GameParams& params) {
  return make_parameterless_game<Connect4>(params, "connect4");
}

}  // namespace rz
