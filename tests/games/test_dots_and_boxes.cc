// Dots and Boxes against an independent re-implementation written here from the rules and the
// documented action numbering / observation layout (common/games/dots_and_boxes.cc header).
// The oracle keeps its own representation (edge grids and a box-owner grid, boxes checked by
// looking at their four sides) and never calls the game's code. Compared:
//   - every step of random games on every board size: player to move, legal moves, the whole
//     observation, the end and the result;
//   - the outcome census over all complete games on the 1x1, 1x2 and 2x1 boards;
//   - the perfect-play result on boards up to 2x2 (oracle: score-margin negamax by edge set;
//     game: win/draw/loss negamax through the public interface), and the published fact
//     that the first player wins on 2x2 (Berlekamp, Winning Ways);
//   - hand-derivable facts: 2RC+R+C edges, the 1x1 board (24 games, all won by the second
//     player), a double-box move, the extra move, draws on even boards.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/game.h"
#include "tests/support/game_play.h"

namespace rz {
namespace {

// ---- The oracle ----------------------------------------------------------------------------
struct Oracle {
  int R, C;
  std::vector<std::vector<bool>> hor,
      ver;                              // hor[r][c]: dot (r,c)-(r,c+1); ver[r][c]: (r,c)-(r+1,c)
  std::vector<std::vector<int>> owner;  // box (r,c): -1 free, else the player
  int player = 0, score[2] = {0, 0}, drawn = 0;

  Oracle(int rows, int cols)
      : R(rows),
        C(cols),
        hor(rows + 1, std::vector<bool>(cols, false)),
        ver(rows, std::vector<bool>(cols + 1, false)),
        owner(rows, std::vector<int>(cols, -1)) {}

  int edges() const { return (R + 1) * C + R * (C + 1); }
  bool over() const { return drawn == edges(); }
  // The documented numbering: horizontal edges row-major, then vertical edges row-major.
  bool is_horizontal(int a) const { return a < (R + 1) * C; }
  std::pair<int, int> rc(int a) const {
    if (is_horizontal(a)) return {a / C, a % C};
    a -= (R + 1) * C;
    return {a / (C + 1), a % (C + 1)};
  }
  bool is_drawn(int a) const {
    const auto [r, c] = rc(a);
    return is_horizontal(a) ? hor[r][c] : ver[r][c];
  }
  bool closed(int r, int c) const {
    return hor[r][c] && hor[r + 1][c] && ver[r][c] && ver[r][c + 1];
  }
  // Draws edge a; returns the number of boxes it took.
  int play(int a) {
    const auto [r, c] = rc(a);
    (is_horizontal(a) ? hor[r][c] : ver[r][c]) = true;
    ++drawn;
    int took = 0;
    for (int br = 0; br < R; ++br)
      for (int bc = 0; bc < C; ++bc)
        if (owner[br][bc] < 0 && closed(br, bc)) {
          owner[br][bc] = player;
          ++took;
        }
    score[player] += took;
    if (took == 0) player = 1 - player;
    return took;
  }
  int result_for_first() const { return score[0] > score[1] ? 1 : score[0] < score[1] ? -1 : 0; }
  // The documented observation: 4 planes on the (2R+1) x (2C+1) grid.
  std::vector<float> observation() const {
    const int H = 2 * R + 1, W = 2 * C + 1;
    std::vector<float> out(4 * H * W, 0.0f);
    auto at = [&](int plane, int i, int j) -> float& { return out[(plane * H + i) * W + j]; };
    for (int r = 0; r <= R; ++r)
      for (int c = 0; c < C; ++c)
        if (hor[r][c]) at(0, 2 * r, 2 * c + 1) = 1.0f;
    for (int r = 0; r < R; ++r)
      for (int c = 0; c <= C; ++c)
        if (ver[r][c]) at(0, 2 * r + 1, 2 * c) = 1.0f;
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) {
        if (owner[r][c] == player) at(1, 2 * r + 1, 2 * c + 1) = 1.0f;
        if (owner[r][c] == 1 - player) at(2, 2 * r + 1, 2 * c + 1) = 1.0f;
      }
    const float diff = static_cast<float>(score[player] - score[1 - player]) / (R * C);
    for (int i = 0; i < H; ++i)
      for (int j = 0; j < W; ++j) at(3, i, j) = diff;
    return out;
  }
};

// Best achievable (mover's future boxes - opponent's future boxes) from an edge set, both
// sides maximising their margin. Memoised by edge bitmask in the oracle's numbering.
int oracle_margin(const Oracle& base, uint32_t edges, std::unordered_map<uint32_t, int>& memo) {
  if (static_cast<int>(__builtin_popcount(edges)) == base.edges()) return 0;
  auto it = memo.find(edges);
  if (it != memo.end()) return it->second;
  int best = -1000;
  for (int a = 0; a < base.edges(); ++a) {
    if (edges >> a & 1) continue;
    Oracle o(base.R, base.C);
    for (int e = 0; e < base.edges(); ++e)
      if (edges >> e & 1) o.play(e);  // replays the edge set; only boxes closed by a matter
    int before = 0;
    for (int r = 0; r < o.R; ++r)
      for (int c = 0; c < o.C; ++c) before += o.closed(r, c);
    const auto [r, c] = o.rc(a);
    (o.is_horizontal(a) ? o.hor[r][c] : o.ver[r][c]) = true;
    int after = 0;
    for (int br = 0; br < o.R; ++br)
      for (int bc = 0; bc < o.C; ++bc) after += o.closed(br, bc);
    const int took = after - before;
    const int rest = oracle_margin(base, edges | (1u << a), memo);
    best = std::max(best, took > 0 ? took + rest : -rest);
  }
  return memo[edges] = best;
}

// ---- Helpers over the game ------------------------------------------------------------------
std::string spec(int rows, int cols) {
  return "dotsandboxes:rows=" + std::to_string(rows) + ",cols=" + std::to_string(cols);
}

// Outcome counts (first wins, second wins, draws) over every complete game.
void census(const State& s, std::map<int, long>& out) {
  if (s.is_terminal()) {
    ++out[static_cast<int>(s.returns(0))];
    return;
  }
  for (Action a : s.legal_actions()) {
    auto next = s.clone();
    next->apply(a);
    census(*next, out);
  }
}
void census(Oracle& o, std::map<int, long>& out) {
  if (o.over()) {
    ++out[o.result_for_first()];
    return;
  }
  for (int a = 0; a < o.edges(); ++a) {
    if (o.is_drawn(a)) continue;
    Oracle next = o;
    next.play(a);
    census(next, out);
  }
}

// Win/draw/loss value for the player to move, by negamax through the game's interface. The
// same player may move twice in a row, so the child's value is negated only on a hand-over.
int game_value(const State& s, std::unordered_map<uint64_t, int>& memo) {
  if (s.is_terminal()) return static_cast<int>(s.returns(s.current_player()));
  auto it = memo.find(s.hash());
  if (it != memo.end()) return it->second;
  int best = -2;
  for (Action a : s.legal_actions()) {
    auto next = s.clone();
    next->apply(a);
    const int v = game_value(*next, memo);
    best = std::max(best, next->current_player() == s.current_player() ? v : -v);
    if (best == 1) break;
  }
  return memo[s.hash()] = best;
}

using test::play_text;

}  // namespace

TEST_CASE("dots and boxes: shapes and edge counts for every board size", "[games][dotsandboxes]") {
  for (int r = 1; r <= 5; ++r) {
    for (int c = 1; c <= 5; ++c) {
      const auto game = make_game(spec(r, c));
      INFO(game->spec());
      CHECK(game->spec() == spec(r, c));
      CHECK(game->num_actions() == 2 * r * c + r + c);
      CHECK(game->max_game_length() == 2 * r * c + r + c);
      const auto shape = game->observation_shape();
      CHECK(shape.planes == 4);
      CHECK(shape.height == 2 * r + 1);
      CHECK(shape.width == 2 * c + 1);
      CHECK(game->num_symmetries() == (r == c ? 8 : 4));
    }
  }
}

TEST_CASE("dots and boxes: random games step by step equal the oracle", "[games][dotsandboxes]") {
  std::mt19937 rng(7);
  for (int r = 1; r <= 5; ++r) {
    for (int c = 1; c <= 5; ++c) {
      const auto game = make_game(spec(r, c));
      INFO(game->spec());
      for (int g = 0; g < 6; ++g) {
        auto s = game->new_initial_state();
        Oracle o(r, c);
        std::vector<float> obs(game->observation_shape().size());
        std::vector<uint8_t> mask(game->num_actions());
        for (;;) {
          REQUIRE(s->is_terminal() == o.over());
          s->observe(obs.data());
          REQUIRE(obs == o.observation());
          s->legal_mask(mask.data());
          for (int a = 0; a < o.edges(); ++a) REQUIRE(mask[a] == (o.over() ? 0 : !o.is_drawn(a)));
          if (o.over()) break;
          REQUIRE(s->current_player() == o.player);
          std::vector<int> free;
          for (int a = 0; a < o.edges(); ++a)
            if (!o.is_drawn(a)) free.push_back(a);
          const int a = free[std::uniform_int_distribution<size_t>(0, free.size() - 1)(rng)];
          s->apply(a);
          o.play(a);
        }
        CHECK(s->returns(0) == o.result_for_first());
        CHECK(s->returns(1) == -o.result_for_first());
        CHECK(o.score[0] + o.score[1] == r * c);
      }
    }
  }
}

TEST_CASE("dots and boxes: outcome census of all complete games on tiny boards",
          "[games][dotsandboxes]") {
  // 1x1 by hand: edges 1-3 close nothing, so the players alternate A B A and B draws the
  // fourth edge, taking the box: 4! = 24 games, all won by the second player.
  std::map<int, long> ones;
  census(*make_game(spec(1, 1))->new_initial_state(), ones);
  CHECK(ones == std::map<int, long>{{-1, 24}});
  for (auto [r, c] : {std::pair<int, int>{1, 2}, {2, 1}}) {  // 7! games each
    INFO(spec(r, c));
    std::map<int, long> from_game, from_oracle;
    census(*make_game(spec(r, c))->new_initial_state(), from_game);
    Oracle o(r, c);
    census(o, from_oracle);
    CHECK(from_game == from_oracle);
    long total = 0;
    for (auto [result, n] : from_game) total += n;
    long factorial = 1;
    for (int k = 2; k <= o.edges(); ++k) factorial *= k;
    CHECK(total == factorial);  // every order of all edges is one complete game
  }
}

TEST_CASE("dots and boxes: perfect-play results equal the oracle's", "[games][dotsandboxes]") {
  for (auto [r, c] : {std::pair<int, int>{1, 1}, {1, 2}, {2, 1}, {1, 3}, {2, 2}}) {
    INFO(spec(r, c));
    std::unordered_map<uint32_t, int> oracle_memo;
    const int margin = oracle_margin(Oracle(r, c), 0, oracle_memo);
    std::unordered_map<uint64_t, int> memo;
    const int value = game_value(*make_game(spec(r, c))->new_initial_state(), memo);
    CHECK(value == (margin > 0 ? 1 : margin < 0 ? -1 : 0));
    if (r == 1 && c == 1) CHECK(margin == -1);  // the second player always takes the box
    // Published (Berlekamp, "Winning Ways"): the 2x2-box (9-dot) game is a first-player win.
    if (r == 2 && c == 2) CHECK(value == 1);
  }
}

TEST_CASE("dots and boxes: extra moves, double boxes and the board text", "[games][dotsandboxes]") {
  const auto game = make_game("dotsandboxes:rows=1,cols=2");
  // Edges of the 1x2 board: h 0 0, h 0 1, h 1 0, h 1 1, v 0 0, v 0 1 (the middle), v 0 2.
  auto s = play_text(*game, {"h 0 0", "h 0 1", "h 1 0", "h 1 1", "v 0 0", "v 0 2"});
  CHECK(s->current_player() == 0);        // six moves, nothing closed: A B A B A B, A to move
  s->apply(game->parse_action("v 0 1"));  // the middle edge closes both boxes at once
  test::check_game_over(*s, 1.0f,
                        "   0   1   2\n"
                        "0  +---+---+\n"
                        "   | A | A |\n"
                        "1  +---+---+\n"
                        "A 2 - B 0, A wins\n");

  // One box closed: the same player moves again, then play passes on as usual.
  s = play_text(*game, {"h 0 0", "h 1 0", "v 0 0"});  // A, B, A
  CHECK(s->current_player() == 1);
  s->apply(game->parse_action("v 0 1"));  // B closes the left box
  CHECK(s->current_player() == 1);
  CHECK_FALSE(s->is_terminal());
  s->apply(game->parse_action("h 0 1"));  // B again, closes nothing
  CHECK(s->current_player() == 0);
  std::vector<float> obs(game->observation_shape().size());
  s->observe(obs.data());  // A to move, B owns box (0,0) at grid cell (1,1), score -1/2
  const int cells = 3 * 5;
  CHECK(obs[2 * cells + 1 * 5 + 1] == 1.0f);
  CHECK(obs[1 * cells + 1 * 5 + 1] == 0.0f);
  CHECK(obs[3 * cells] == -0.5f);

  // A 2x2 board can end level. Boxes: TL = h00 h10 v00 v01, TR = h01 h11 v01 v02,
  // BL = h10 h20 v10 v11, BR = h11 h21 v11 v12.
  const auto square = make_game("dotsandboxes:rows=2,cols=2");
  s = play_text(*square, {"v 1 0", "v 0 1", "h 0 0", "v 0 0"});  // A B A B, nothing closed
  CHECK(s->current_player() == 0);
  s->apply(square->parse_action("h 1 0"));  // A closes TL, moves again
  CHECK(s->current_player() == 0);
  s->apply(square->parse_action("h 2 0"));  // A: nothing
  CHECK(s->current_player() == 1);
  s->apply(square->parse_action("v 1 1"));  // B closes BL, moves again
  s->apply(square->parse_action("h 1 1"));  // B: nothing
  s->apply(square->parse_action("h 0 1"));  // A: nothing
  s->apply(square->parse_action("v 0 2"));  // B closes TR, moves again
  s->apply(square->parse_action("h 2 1"));  // B: nothing
  CHECK(s->current_player() == 0);
  CHECK_FALSE(s->is_terminal());
  s->apply(square->parse_action("v 1 2"));  // A closes BR: 2-2
  test::check_game_over(*s, 0.0f,
                        "   0   1   2\n"
                        "0  +---+---+\n"
                        "   | A | B |\n"
                        "1  +---+---+\n"
                        "   | B | A |\n"
                        "2  +---+---+\n"
                        "A 2 - B 2, draw\n");

  // Text forms a person may type.
  CHECK(square->parse_action("H 2 1") == square->parse_action("h 2 1"));
  CHECK(square->parse_action("v1,2") == square->parse_action("v 1 2"));
  CHECK(square->parse_action("  h0 1 ") == 1);
  CHECK(square->action_to_string(0) == "h 0 0");
  CHECK(square->action_to_string(6) == "v 0 0");  // the first vertical edge after 3x2 horizontals
  CHECK(square->action_to_string(11) == "v 1 2");
}

}  // namespace rz
