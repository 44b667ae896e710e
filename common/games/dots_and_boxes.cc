// Dots and Boxes on a board of rows x cols boxes ((rows+1) x (cols+1) dots), 1..5 each.
//
// Spec: "dotsandboxes" (3x3 boxes) or "dotsandboxes:rows=R,cols=C"; spec() is always the full
// form. Players take turns drawing one edge between two neighbouring dots. Drawing the fourth
// edge of a box (or of two boxes at once) takes the box(es) and gives the same player another
// move. The game ends when every edge is drawn; more boxes wins (+1/-1), equal counts draw (0).
//
// Dots are named by (row, col), row 0 at the top, col 0 at the left, as printed on the board.
// Actions, num_actions() = (R+1)*C + R*(C+1):
//   horizontal edges first, row-major: "h r c" = dot (r, c) to dot (r, c+1),
//     action r*C + c for r in [0, R], c in [0, C);
//   then vertical edges, row-major: "v r c" = dot (r, c) to dot (r+1, c),
//     action (R+1)*C + r*(C+1) + c for r in [0, R), c in [0, C].
// Observation: 4 planes on the (2R+1) x (2C+1) grid that interleaves dots, edges and boxes
// (dot (r, c) at cell (2r, 2c); edge "h r c" at (2r, 2c+1); "v r c" at (2r+1, 2c); box (r, c)
// at (2r+1, 2c+1)), from the mover's view:
//   plane 0: 1 on drawn edges;
//   plane 1: 1 on boxes owned by the mover;
//   plane 2: 1 on boxes owned by the opponent;
//   plane 3: constant (mover's boxes - opponent's boxes) / (R*C), the running score.
// Symmetries: the grid transforms (transpose?) then (flip rows?) then (flip cols?);
// sym = flip_rows + 2*flip_cols + 4*transpose. Rectangular boards keep only the 4 without
// transpose (it would change the shape); square boards have all 8.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>
#include <cstdint>
#include <vector>

#include "common/game.h"
#include "common/hash.h"

namespace rz {
namespace {

constexpr int kMaxSide = 5;
constexpr int kPlanes = 4;
constexpr int kMaxGridSide = 2 * kMaxSide + 1;

int popcount(uint32_t x) {
  return __builtin_popcount(x);
}

// The state is a few words so MCTS can clone it cheaply; the board geometry is two bytes and
// box completion is recomputed from it (four bit tests), instead of sharing a lookup table.
class DotsAndBoxesState final : public State {
 public:
  DotsAndBoxesState(int rows, int cols)
      : rows_(static_cast<uint8_t>(rows)), cols_(static_cast<uint8_t>(cols)) {}

  std::unique_ptr<State> clone() const override {
    return std::make_unique<DotsAndBoxesState>(*this);
  }
  void copy_from(const State& other) override {
    assert(dynamic_cast<const DotsAndBoxesState*>(&other) != nullptr);
    *this = static_cast<const DotsAndBoxesState&>(other);
  }
  int current_player() const override { return player_; }
  bool is_terminal() const override { return moves_ == num_edges(); }
  int num_actions() const override { return num_edges(); }
  void legal_mask(uint8_t* mask) const override {
    for (int a = 0; a < num_edges(); ++a) mask[a] = !drawn(a);
  }
  float returns(int player) const override {
    const int diff = popcount(owned_[player]) - popcount(owned_[1 - player]);
    return diff > 0 ? 1.0f : diff < 0 ? -1.0f : 0.0f;
  }
  void observe(float* out) const override {
    const int h = 2 * rows_ + 1, w = 2 * cols_ + 1, plane = h * w;
    std::fill(out, out + kPlanes * plane, 0.0f);
    for (int a = 0; a < num_edges(); ++a)
      if (drawn(a)) out[edge_cell(a)] = 1.0f;
    const uint32_t mine = owned_[player_], theirs = owned_[1 - player_];
    for (int b = 0; b < rows_ * cols_; ++b) {
      const int cell = (2 * (b / cols_) + 1) * w + 2 * (b % cols_) + 1;
      if (mine >> b & 1) out[plane + cell] = 1.0f;
      if (theirs >> b & 1) out[2 * plane + cell] = 1.0f;
    }
    const float score =
        static_cast<float>(popcount(mine) - popcount(theirs)) / static_cast<float>(rows_ * cols_);
    std::fill(out + 3 * plane, out + 4 * plane, score);
  }
  int move_number() const override { return moves_; }
  std::string to_string() const override {
    // Dot (r, c) is printed at text column 3 + 4c of line 2r; the box letter sits between.
    std::string s = "  ";
    for (int c = 0; c <= cols_; ++c) s += fmt::format(" {:<3}", c);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    s += '\n';
    const int horizontal = (rows_ + 1) * cols_;
    for (int i = 0; i <= 2 * rows_; ++i) {
      std::string line = i % 2 == 0 ? fmt::format("{:<3}", i / 2) : "   ";
      for (int c = 0; c <= cols_; ++c) {
        if (i % 2 == 0) {
          line += '+';
          if (c < cols_) line += drawn((i / 2) * cols_ + c) ? "---" : "   ";
        } else {
          const int r = i / 2;
          line += drawn(horizontal + r * (cols_ + 1) + c) ? '|' : ' ';
          if (c < cols_) {
            const int b = r * cols_ + c;
            const char owner = (owned_[0] >> b & 1) ? 'A' : (owned_[1] >> b & 1) ? 'B' : ' ';
            line += fmt::format(" {} ", owner);
          }
        }
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      s += line + '\n';
    }
    s += fmt::format("A {} - B {}", popcount(owned_[0]), popcount(owned_[1]));
    if (is_terminal())
      s += returns(0) > 0 ? ", A wins\n" : returns(0) < 0 ? ", B wins\n" : ", draw\n";
    else
      s += fmt::format(", {} to move (h <row> <col> or v <row> <col>)\n", player_ == 0 ? 'A' : 'B');
    return s;
  }
  uint64_t hash() const override {
    return mix64(edges_ ^ mix64((uint64_t{owned_[0]} << 32 | owned_[1]) * 2 + player_));
  }

 private:
  void do_apply(Action a) override {
    edges_ |= uint64_t{1} << a;
    ++moves_;
    // The (at most two) boxes this edge borders; each taken box is the mover's.
    int boxes[2], n = 0;
    const int horizontal = (rows_ + 1) * cols_;
    if (a < horizontal) {
      const int r = a / cols_, c = a % cols_;
      if (r > 0) boxes[n++] = (r - 1) * cols_ + c;
      if (r < rows_) boxes[n++] = r * cols_ + c;
    } else {
      const int r = (a - horizontal) / (cols_ + 1), c = (a - horizontal) % (cols_ + 1);
      if (c > 0) boxes[n++] = r * cols_ + c - 1;
      if (c < cols_) boxes[n++] = r * cols_ + c;
    }
    bool took = false;
    for (int i = 0; i < n; ++i) {
      if (box_complete(boxes[i])) {
        owned_[player_] |= uint32_t{1} << boxes[i];
        took = true;
      }
    }
    if (!took) player_ ^= 1;
  }
  int num_edges() const { return 2 * rows_ * cols_ + rows_ + cols_; }
  bool drawn(int a) const { return edges_ >> a & 1; }
  bool box_complete(int b) const {
    const int r = b / cols_, c = b % cols_, horizontal = (rows_ + 1) * cols_;
    const int v = horizontal + r * (cols_ + 1) + c;
    return drawn(r * cols_ + c) && drawn((r + 1) * cols_ + c) && drawn(v) && drawn(v + 1);
  }
  int edge_cell(int a) const {
    const int w = 2 * cols_ + 1, horizontal = (rows_ + 1) * cols_;
    if (a < horizontal) return 2 * (a / cols_) * w + 2 * (a % cols_) + 1;
    a -= horizontal;
    return (2 * (a / (cols_ + 1)) + 1) * w + 2 * (a % (cols_ + 1));
  }

  uint64_t edges_ = 0;               // bit a: edge a is drawn (at most 60 edges)
  std::array<uint32_t, 2> owned_{};  // bit b: box b (row-major) belongs to that player
  uint8_t rows_, cols_;
  uint8_t player_ = 0;
  uint8_t moves_ = 0;
};

class DotsAndBoxes final : public Game {
 public:
  DotsAndBoxes(int rows, int cols) : rows_(rows), cols_(cols) {
    const int h = grid_h(), w = grid_w();
    const int syms = rows == cols ? 8 : 4;
    cell_map_.assign(syms, std::vector<int>(h * w));
    action_map_.assign(syms, std::vector<int>(num_actions()));
    for (int s = 0; s < syms; ++s) {
      for (int i = 0; i < h; ++i) {
        for (int j = 0; j < w; ++j) {
          int ti = i, tj = j;
          if (s & 4) std::swap(ti, tj);  // only for square grids, so the shape is kept
          if (s & 1) ti = h - 1 - ti;
          if (s & 2) tj = w - 1 - tj;
          cell_map_[s][i * w + j] = ti * w + tj;
        }
      }
      for (int a = 0; a < num_actions(); ++a)
        action_map_[s][a] = cell_action(cell_map_[s][action_cell(a)]);
    }
  }
  std::string spec() const override {
    return fmt::format("dotsandboxes:rows={},cols={}", rows_, cols_);
  }
  std::string name() const override { return "dotsandboxes"; }
  int num_actions() const override { return 2 * rows_ * cols_ + rows_ + cols_; }
  ObservationShape observation_shape() const override { return {kPlanes, grid_h(), grid_w()}; }
  int max_game_length() const override { return num_actions(); }
  std::unique_ptr<State> new_initial_state() const override {
    return std::make_unique<DotsAndBoxesState>(rows_, cols_);
  }
  int num_symmetries() const override { return static_cast<int>(cell_map_.size()); }
  void apply_symmetry(int sym, float* observation, float* policy) const override {
    assert(sym >= 0 && sym < num_symmetries());
    if (sym == 0) return;
    float tmp[kPlanes * kMaxGridSide * kMaxGridSide];
    const int cells = grid_h() * grid_w();
    if (observation) {
      for (int p = 0; p < kPlanes; ++p)
        for (int c = 0; c < cells; ++c)
          tmp[p * cells + cell_map_[sym][c]] = observation[p * cells + c];
      std::copy(tmp, tmp + kPlanes * cells, observation);
    }
    if (policy) {
      for (int a = 0; a < num_actions(); ++a) tmp[action_map_[sym][a]] = policy[a];
      std::copy(tmp, tmp + num_actions(), policy);
    }
  }
  std::string action_to_string(Action a) const override {
    const int horizontal = (rows_ + 1) * cols_;
    if (a < horizontal) return fmt::format("h {} {}", a / cols_, a % cols_);
    a -= horizontal;
    return fmt::format("v {} {}", a / (cols_ + 1), a % (cols_ + 1));
  }
  Action parse_action(const std::string& text) const override {
    // "h r c" or "v r c"; spaces or commas between the parts are optional ("h0 1", "v 1,2").
    size_t i = 0;
    auto skip = [&] {
      while (i < text.size() && (text[i] == ' ' || text[i] == ',' || text[i] == '\t')) ++i;
    };
    auto number = [&](int& out) {
      skip();
      const size_t start = i;
      out = 0;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && i - start < 3)
        out = out * 10 + (text[i++] - '0');
      return i > start;
    };
    skip();
    char kind = i < text.size() ? static_cast<char>(std::tolower(text[i])) : '\0';
    int r = -1, c = -1;
    bool ok = kind == 'h' || kind == 'v';
    if (ok) {
      ++i;
      ok = number(r) && number(c);
      skip();
      ok = ok && i == text.size();
    }
    if (ok && kind == 'h' && r <= rows_ && c < cols_) return r * cols_ + c;
    if (ok && kind == 'v' && r < rows_ && c <= cols_)
      return (rows_ + 1) * cols_ + r * (cols_ + 1) + c;
    throw GameError(fmt::format(
        "'{}' is not an edge of this {}x{} board: type h <row 0-{}> <col 0-{}> for the "
        "horizontal edge right of a dot, or v <row 0-{}> <col 0-{}> for the vertical edge below it",
        text, rows_, cols_, rows_, cols_ - 1, rows_ - 1, cols_));
  }

 private:
  int grid_h() const { return 2 * rows_ + 1; }
  int grid_w() const { return 2 * cols_ + 1; }
  int action_cell(int a) const {
    const int horizontal = (rows_ + 1) * cols_;
    if (a < horizontal) return 2 * (a / cols_) * grid_w() + 2 * (a % cols_) + 1;
    a -= horizontal;
    return (2 * (a / (cols_ + 1)) + 1) * grid_w() + 2 * (a % (cols_ + 1));
  }
  int cell_action(int cell) const {
    const int i = cell / grid_w(), j = cell % grid_w();
    assert((i + j) % 2 == 1);  // edges sit where exactly one coordinate is odd
    if (i % 2 == 0) return (i / 2) * cols_ + (j - 1) / 2;
    return (rows_ + 1) * cols_ + (i - 1) / 2 * (cols_ + 1) + j / 2;
  }

  int rows_, cols_;
  // Per symmetry: where each grid cell and each action goes.
  std::vector<std::vector<int>> cell_map_, action_map_;
};

}  // namespace

std::unique_ptr<Game> make_dots_and_boxes(GameParams& params) {
  const int rows = take_int_param(params, "rows", 3, 1, kMaxSide, "dotsandboxes");
  const int cols = take_int_param(params, "cols", 3, 1, kMaxSide, "dotsandboxes");
  refuse_unknown_params(params, "dotsandboxes", "rows, cols");
  return std::make_unique<DotsAndBoxes>(rows, cols);
}

}  // namespace rz
