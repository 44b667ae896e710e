// Tic-tac-toe: the smallest complete game, and the worked example in docs/games.md.
//
// Cells are numbered 0..8 row by row; the action is the cell. Observation: plane 0 holds the
// mover's marks, plane 1 the opponent's. Symmetries: the 8 of the square.
#include <array>
#include <cassert>

#include "common/game.h"

namespace rz {
namespace {

constexpr int kCells = 9;
constexpr int kLines[8][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6},
                              {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}};

class TicTacToeState final : public State {
 public:
  std::unique_ptr<State> clone() const override { return std::make_unique<TicTacToeState>(*this); }
  void copy_from(const State& other) override {
    assert(dynamic_cast<const TicTacToeState*>(&other) != nullptr);
    *this = static_cast<const TicTacToeState&>(other);
  }
  int current_player() const override { return moves_ % 2; }
  bool is_terminal() const override { return winner_ >= 0 || moves_ == kCells; }
  int num_actions() const override { return kCells; }
  void legal_mask(uint8_t* mask) const override {
    const bool over = is_terminal();
    for (int c = 0; c < kCells; ++c) mask[c] = !over && board_[c] < 0;
  }
  float returns(int player) const override {
    if (winner_ < 0) return 0.0f;
    return winner_ == player ? 1.0f : -1.0f;
  }
  void observe(float* out) const override {
    const int me = current_player();
    for (int c = 0; c < kCells; ++c) {
      out[c] = board_[c] == me ? 1.0f : 0.0f;
      out[kCells + c] = board_[c] == 1 - me ? 1.0f : 0.0f;
    }
  }
  int move_number() const override { return moves_; }
  std::string to_string() const override {
    std::string s;
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) {
        const int v = board_[r * 3 + c];
        s += v < 0 ? static_cast<char>('1' + r * 3 + c) : (v == 0 ? 'X' : 'O');
        s += c < 2 ? " " : "\n";
      }
    }
    return s;
  }
  uint64_t hash() const override {
    uint64_t h = 0;
    for (int c = 0; c < kCells; ++c) h = h * 3 + static_cast<uint64_t>(board_[c] + 1);
    return h;
  }

 private:
  void do_apply(Action a) override {
    const int p = current_player();
    board_[a] = static_cast<int8_t>(p);
    ++moves_;
    for (const auto& l : kLines)
      if (board_[l[0]] == p && board_[l[1]] == p && board_[l[2]] == p) winner_ = p;
  }

  std::array<int8_t, kCells> board_{-1, -1, -1, -1, -1, -1, -1, -1, -1};
  int moves_ = 0;
  int winner_ = -1;
};

class TicTacToe final : public Game {
 public:
  std::string spec() const override { return "tictactoe"; }
  std::string name() const override { return "tictactoe"; }
  int num_actions() const override { return kCells; }
  ObservationShape observation_shape() const override { return {2, 3, 3}; }
  int max_game_length() const override { return kCells; }
  std::unique_ptr<State> new_initial_state() const override {
    return std::make_unique<TicTacToeState>();
  }
  int num_symmetries() const override { return 8; }
  void apply_symmetry(int sym, float* observation, float* policy) const override {
    // sym = rotation (0..3 quarter turns) + 4 * mirror.
    int map[kCells];
    for (int c = 0; c < kCells; ++c) {
      int r = c / 3, k = c % 3;
      if (sym >= 4) k = 2 - k;
      for (int t = 0; t < sym % 4; ++t) {
        const int nr = k, nk = 2 - r;
        r = nr;
        k = nk;
      }
      map[c] = r * 3 + k;
    }
    float tmp[2 * kCells];
    if (observation) {
      for (int p = 0; p < 2; ++p)
        for (int c = 0; c < kCells; ++c) tmp[p * kCells + map[c]] = observation[p * kCells + c];
      std::copy(tmp, tmp + 2 * kCells, observation);
    }
    if (policy) {
      for (int c = 0; c < kCells; ++c) tmp[map[c]] = policy[c];
      std::copy(tmp, tmp + kCells, policy);
    }
  }
  std::string action_to_string(Action a) const override { return digit_action_to_string(a); }
  Action parse_action(const std::string& text) const override {
    return parse_digit_action(text, kCells, "cell", "rows read left to right");
  }
};

}  // namespace

std::unique_ptr<Game> make_tictactoe(GameParams& params) {
  return make_parameterless_game<TicTacToe>(params, "tictactoe");
}

}  // namespace rz
