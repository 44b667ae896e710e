// What the game, search and network tests share: positions reached by playing given moves
// (each checked legal with REQUIRE), positions reached by seeded random play, and one batch
// of states with room for an evaluator's answers. Header-only; the tests of tests/games,
// tests/mcts and tests/net include it as "tests/support/game_play.h".
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/evaluator.h"
#include "common/game.h"

namespace rz::test {

// The state after `moves` from the initial state, every move REQUIREd legal first.
inline std::unique_ptr<State> play(const Game& game, const std::vector<Action>& moves) {
  auto state = game.new_initial_state();
  for (Action a : moves) {
    REQUIRE(state->is_legal(a));
    state->apply(a);
  }
  return state;
}

// The same for moves as a human types them (Game::parse_action text), e.g. {"h 0 0", "v 1 2"}.
inline std::unique_ptr<State> play_text(const Game& game, const std::vector<std::string>& moves) {
  std::vector<Action> actions;
  for (const auto& m : moves) actions.push_back(game.parse_action(m));
  return play(game, actions);
}

// The same for games whose moves are one character each (Connect Four's columns "4453",
// Tic-tac-toe's cells "159").
inline std::unique_ptr<State> play_digits(const Game& game, const std::string& moves) {
  std::vector<std::string> texts;
  for (char c : moves) texts.emplace_back(1, c);
  return play_text(game, texts);
}

// Checks a finished game: terminal, player 0's return (player 1's is its negation) and the
// board as to_string() prints it.
inline void check_game_over(const State& state, float returns_of_first, const std::string& board) {
  CHECK(state.is_terminal());
  CHECK(state.returns(0) == returns_of_first);
  CHECK(state.returns(1) == -returns_of_first);
  CHECK(state.to_string() == board);
}

// `count` non-terminal positions from seeded random play, each 0 to ply_range - 1 plies deep
// (the initial position among them); with `distinct`, no two with the same hash.
inline std::vector<std::unique_ptr<State>> random_positions(const Game& game, size_t count,
                                                            uint64_t seed, int ply_range,
                                                            bool distinct) {
  std::mt19937_64 rng(seed);
  std::vector<std::unique_ptr<State>> out;
  std::set<uint64_t> seen;
  while (out.size() < count) {
    auto s = game.new_initial_state();
    const int plies = static_cast<int>(rng() % static_cast<uint64_t>(ply_range));
    for (int i = 0; i < plies && !s->is_terminal(); ++i) {
      const auto legal = s->legal_actions();
      s->apply(legal[rng() % legal.size()]);
    }
    if (s->is_terminal() || (distinct && !seen.insert(s->hash()).second)) continue;
    out.push_back(std::move(s));
  }
  return out;
}

inline std::vector<const State*> pointers(const std::vector<std::unique_ptr<State>>& states) {
  std::vector<const State*> out;
  for (const auto& s : states) out.push_back(s.get());
  return out;
}

// A batch of states and the evaluator's answers for them (policy: num_actions per state).
// The answers start as -1 (policy) and -7 (value), so that one the evaluator did not write
// shows.
struct EvalBatch {
  std::vector<const State*> states;
  std::vector<float> policy, value;
  EvalBatch(std::vector<const State*> s, int num_actions)
      : states(std::move(s)),
        policy(states.size() * static_cast<size_t>(num_actions), -1.0f),
        value(states.size(), -7.0f) {}
  EvalBatch(const std::vector<std::unique_ptr<State>>& s, int num_actions)
      : EvalBatch(pointers(s), num_actions) {}
  void run(Evaluator& e) {
    e.evaluate(states.data(), static_cast<int>(states.size()), policy.data(), value.data());
  }
};

}  // namespace rz::test
