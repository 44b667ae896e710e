// Connect Four against published ground truth:
//   - OEIS A212693 (John Tromp's census): distinct positions after n plies, n = 0..8. A game
//     that is won stops there: the won position counts, its successors do not exist.
//   - Pascal Pons' solved positions (../shared/data/connect4, format in its README): every
//     line replays legally to a non-terminal position, and the published score says whether
//     the side to move wins at once, which our win detection must reproduce.
//   - Hand-checked wins in every direction, a full-board draw and a win on the last cell.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/game.h"
#include "tests/support/game_play.h"

namespace rz {
namespace {

using test::play_digits;

// An independent position key from the observation: the mover's and the opponent's stones as
// two 42-bit words (the mover is fixed within one ply count).
std::pair<uint64_t, uint64_t> observed_key(const State& state) {
  float obs[84];
  state.observe(obs);
  uint64_t mine = 0, theirs = 0;
  for (int i = 0; i < 42; ++i) {
    mine |= static_cast<uint64_t>(obs[i] != 0.0f) << i;
    theirs |= static_cast<uint64_t>(obs[42 + i] != 0.0f) << i;
  }
  return {mine, theirs};
}

struct PairHash {
  size_t operator()(const std::pair<uint64_t, uint64_t>& k) const {
    return std::hash<uint64_t>()(k.first * 0x9e3779b97f4a7c15ULL ^ k.second);
  }
};

// Whether the player to move can force a win within `plies` plies (odd), and whether the
// player to move loses within `plies` plies (even) whatever it does: a tiny exact search, the
// independent check of the published scores' win distances.
bool loses_within(const State& s, int plies);
bool wins_within(const State& s, int plies) {
  for (Action a : s.legal_actions()) {
    auto next = s.clone();
    next->apply(a);
    if (next->is_terminal()) {
      if (next->returns(s.current_player()) == 1.0f) return true;
    } else if (plies >= 3 && loses_within(*next, plies - 1)) {
      return true;
    }
  }
  return false;
}
bool loses_within(const State& s, int plies) {
  for (Action a : s.legal_actions()) {
    auto next = s.clone();
    next->apply(a);
    if (next->is_terminal() || !wins_within(*next, plies - 1)) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("connect4: positions after n plies match OEIS A212693", "[games][connect4]") {
  const long expected[] = {1, 7, 49, 238, 1120, 4263, 16422, 54859, 184275};
  const auto game = make_game("connect4");
  std::vector<std::unique_ptr<State>> frontier;  // distinct positions still in play
  frontier.push_back(game->new_initial_state());
  CHECK(expected[0] == 1);
  for (int n = 1; n <= 8; ++n) {
    std::unordered_set<std::pair<uint64_t, uint64_t>, PairHash> seen;
    std::unordered_set<uint64_t> hashes;
    std::vector<std::unique_ptr<State>> next_frontier;
    for (const auto& state : frontier) {
      for (Action a : state->legal_actions()) {
        auto next = state->clone();
        next->apply(a);
        hashes.insert(next->hash());
        if (!seen.insert(observed_key(*next)).second) continue;
        if (!next->is_terminal()) next_frontier.push_back(std::move(next));
      }
    }
    INFO("n = " << n);
    CHECK(static_cast<long>(seen.size()) == expected[n]);
    CHECK(hashes.size() == seen.size());  // the Pons key is unique per position
    frontier = std::move(next_frontier);
  }
}

TEST_CASE("connect4: Pons' solved positions replay legally and agree on short win distances",
          "[games][connect4]") {
  const auto game = make_game("connect4");
  for (const char* file : {"/connect4/Test_L3_R1", "/connect4/Test_L2_R1", "/connect4/Test_L2_R2",
                           "/connect4/Test_L1_R1"}) {
    INFO(file);
    std::ifstream in(std::string(RZ_SHARED_DATA) + file);
    REQUIRE(in.good());
    // The 4-ply loss search costs 7^4 nodes a line: only on the end-game set, where it bites.
    const bool deep = std::string(file) == "/connect4/Test_L3_R1";
    int lines = 0, short_wins = 0, short_losses = 0;
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string moves;
      int score = 0;
      REQUIRE(static_cast<bool>(fields >> moves >> score));
      INFO(line);
      ++lines;
      const auto state = play_digits(*game, moves);
      CHECK_FALSE(state->is_terminal());
      CHECK(state->move_number() == static_cast<int>(moves.size()));
      CHECK(state->current_player() == static_cast<int>(moves.size() % 2));
      // README: the winner's score is 22 - (its stones when it wins). With m stones of the
      // mover and o of the opponent on the board, the score tells whether the mover wins with
      // its next stone (22 - (m + 1)) or the one after (22 - (m + 2)), or loses to the
      // opponent's next stone ((o + 1) - 22) or the one after ((o + 2) - 22). Each must agree
      // with a short exact search through our rules. A distance that needs a 22nd stone does
      // not exist (that score, 0, is a draw).
      const int n = static_cast<int>(moves.size()), m = n / 2, o = n - m;
      const bool win1 = wins_within(*state, 1), win3 = wins_within(*state, 3);
      CHECK(win1 == (score == 22 - (m + 1)));
      CHECK((win3 && !win1) == (m + 2 <= 21 && score == 22 - (m + 2)));
      if (deep) {
        const bool loss2 = loses_within(*state, 2), loss4 = loses_within(*state, 4);
        CHECK(loss2 == (o + 1 <= 21 && score == o + 1 - 22));
        CHECK((loss4 && !loss2) == (o + 2 <= 21 && score == o + 2 - 22));
        short_losses += loss4;
      }
      short_wins += win3;
    }
    CHECK(lines == 1000);
    // The end-game set must really exercise the check in both directions.
    if (deep) {
      CHECK(short_wins > 10);
      CHECK(short_losses > 10);
    }
  }
}

TEST_CASE("connect4: hand-checked wins, draws and board orientation", "[games][connect4]") {
  const auto game = make_game("connect4");
  struct Win {
    const char* moves;
    int winner;
  };
  const Win wins[] = {
      {"1122334", 0},      // X along the bottom row, columns 1-4
      {"4455667", 0},      // X along the bottom row, columns 4-7 (right edge)
      {"1212121", 0},      // X up column 1
      {"12123232", 1},     // O up column 2
      {"12234334544", 0},  // X on the rising diagonal 1a 2b 3c 4d
      {"76654554344", 0},  // X on the falling diagonal 4d 5c 6b 7a
  };
  for (const auto& w : wins) {
    INFO(w.moves);
    const std::string moves = w.moves;
    const auto before = play_digits(*game, moves.substr(0, moves.size() - 1));
    CHECK_FALSE(before->is_terminal());
    const auto after = play_digits(*game, moves);
    CHECK(after->is_terminal());
    CHECK(after->returns(w.winner) == 1.0f);
    CHECK(after->returns(1 - w.winner) == -1.0f);
    CHECK(after->legal_actions().empty());
  }
  // Lines must not wrap around the board edge: X on 5,6,7 of row 1 and 1 of row 2 is no win.
  CHECK_FALSE(play_digits(*game, "51617213")->is_terminal());
  // A vertical run must not continue from the top of one column into the next one.
  CHECK_FALSE(play_digits(*game, "211121171")->is_terminal());

  // Full board, no four anywhere (board checked by hand against the picture below).
  const std::string draw = "547125662261271266215743771576315353334444";
  auto s = play_digits(*game, draw);
  test::check_game_over(*s, 0.0f,
                        "O X O O X O X\n"
                        "X O X X X O O\n"
                        "O X O O O X X\n"
                        "X O O X X X O\n"
                        "O X X X O O O\n"
                        "O X O O X X X\n"
                        "1 2 3 4 5 6 7\n"
                        "draw\n");
  // The 42nd stone fills the board and completes O's four: a win, not a draw.
  s = play_digits(*game, "567555452343641722571334167142211647237366");
  CHECK(s->is_terminal());
  CHECK(s->returns(1) == 1.0f);

  // Observation: mover's stones in plane 0, opponent's in plane 1, row 0 = top.
  s = play_digits(*game, "1");  // X in the bottom-left corner; O to move
  float obs[84];
  s->observe(obs);
  for (int i = 0; i < 84; ++i) CHECK(obs[i] == (i == 42 + 5 * 7 + 0 ? 1.0f : 0.0f));
  s->apply(6);  // O in the bottom-right corner; X to move
  s->observe(obs);
  for (int i = 0; i < 84; ++i)
    CHECK(obs[i] == (i == 5 * 7 + 0 || i == 42 + 5 * 7 + 6 ? 1.0f : 0.0f));
  CHECK(s->to_string().find("X . . . . . O\n1 2 3 4 5 6 7\nX to move\n") != std::string::npos);

  // A full column is no longer playable; transpositions share a hash.
  s = play_digits(*game, "444444");
  CHECK_FALSE(s->is_legal(3));
  CHECK(s->legal_actions() == std::vector<Action>{0, 1, 2, 4, 5, 6});
  CHECK(play_digits(*game, "123")->hash() == play_digits(*game, "321")->hash());
  CHECK(play_digits(*game, "12")->hash() != play_digits(*game, "21")->hash());
  CHECK(game->parse_action("1") == 0);
  CHECK(game->parse_action("7") == 6);
  CHECK(game->action_to_string(6) == "7");
}

}  // namespace rz
