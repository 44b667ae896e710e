// The one interface between a game and everything else (MCTS, actor, learner, evaluator).
//
// A Game describes the fixed facts of a game (action count, observation shape, symmetries)
// and makes initial States. A State is one position; it is copyable through clone() and
// mutated only by apply(). Nothing outside a game's own file may assume that players
// alternate: always ask current_player() (Dots and Boxes gives a player another move after
// completing a box).
//
// Conventions:
//   - Players are 0 (moves first) and 1.
//   - Actions are dense integers in [0, num_actions()).
//   - Observations are planes x height x width floats, row-major, always from the point of
//     view of the player to move (plane content is game-specific).
//   - returns(p) is the final outcome for player p of a terminal state: +1 win, -1 loss,
//     0 draw (values in between are allowed for games with scores).
//
// Adding a game: one new file in common/games/ plus one line in common/games/game_list.h
// (see docs/games.md).
#pragma once

#include <cassert>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace rz {

using Action = int;
constexpr Action kInvalidAction = -1;

struct ObservationShape {
  int planes = 0, height = 0, width = 0;
  int size() const { return planes * height * width; }
};

// Thrown for any bad input a user can cause (unknown game, malformed move, bad parameter).
struct GameError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class State {
 public:
  virtual ~State() = default;
  virtual std::unique_ptr<State> clone() const = 0;
  // Makes this state equal to `other`, a state of the same game (the same spec), without
  // allocating: the search replays each simulation's leaf into a preallocated state with it
  // instead of clone(), so a simulation costs no heap allocation.
  virtual void copy_from(const State& other) = 0;

  // The player to move, 0 or 1. Meaningless (but safe to call) on a terminal state.
  virtual int current_player() const = 0;
  virtual bool is_terminal() const = 0;
  // The game's action count (Game::num_actions()): the length of legal_mask's output.
  virtual int num_actions() const = 0;
  // Writes num_actions() bytes: 1 for a legal action, 0 otherwise. All zero when terminal.
  // The one legality rule of a game: legal_actions() and is_legal() are read off it.
  virtual void legal_mask(uint8_t* mask) const = 0;
  // The legal actions in increasing order. Empty when terminal. (From legal_mask; a game
  // may override either query with a faster equivalent.)
  virtual std::vector<Action> legal_actions() const;
  // False for an action outside [0, num_actions()) too.
  virtual bool is_legal(Action a) const;
  // Applies a legal action. Behaviour for an illegal one is a precondition violation, checked
  // here once for every game with assert in debug builds; release builds pay nothing, so the
  // search (which picks only from legal_mask) has no check on its hot path. User input goes
  // through Game::parse_action and is_legal first.
  void apply(Action a) {
    assert(is_legal(a));
    do_apply(a);
  }
  // Final outcome for `player` in [-1, 1]; only for terminal states.
  virtual float returns(int player) const = 0;
  // Writes observation_shape().size() floats from the mover's point of view.
  virtual void observe(float* out) const = 0;
  // Number of actions applied since the initial state.
  virtual int move_number() const = 0;
  // A human-readable board, several lines, with coordinates a human can type.
  virtual std::string to_string() const = 0;
  // A hash of the position (equal positions hash equal).
  virtual uint64_t hash() const = 0;

 protected:
  // The game's move, for an action apply() has checked (debug builds) to be legal.
  virtual void do_apply(Action a) = 0;
};

class Game {
 public:
  virtual ~Game() = default;
  // Canonical spec that make_game() turns back into an equal game, e.g.
  // "dotsandboxes:rows=3,cols=3" or "connect4". Checkpoints and records carry it.
  virtual std::string spec() const = 0;
  virtual std::string name() const = 0;
  virtual int num_actions() const = 0;
  virtual ObservationShape observation_shape() const = 0;
  // Upper bound on the number of actions in one game.
  virtual int max_game_length() const = 0;
  virtual std::unique_ptr<State> new_initial_state() const = 0;

  // Symmetries of the board (identity is 0). apply_symmetry transforms one observation
  // (observation_shape().size() floats) and one policy (num_actions() floats) in place, so
  // that the pair stays consistent. Either pointer may be null.
  virtual int num_symmetries() const { return 1; }
  virtual void apply_symmetry(int sym, float* observation, float* policy) const {}

  // Text for an action and back, as a human types it. parse_action throws GameError with a
  // one-line message for malformed text; legality is the caller's check.
  virtual std::string action_to_string(Action a) const = 0;
  virtual Action parse_action(const std::string& text) const = 0;
};

// Parameters given after ':' in a spec, e.g. "rows=3,cols=3".
using GameParams = std::map<std::string, std::string>;

// Builds a game from a spec "name" or "name:key=value,key=value". Throws GameError naming
// the problem (unknown game, unknown or bad parameter) and the accepted choices.
std::unique_ptr<Game> make_game(const std::string& spec);
// Names of all registered games.
std::vector<std::string> registered_games();

// Helpers for game implementations: read an integer parameter, refusing leftovers.
// take_int_param removes `key` from params; refuse_unknown_params then throws for whatever is
// left, listing `accepted` (e.g. "rows, cols"; empty means the game takes no parameters).
int take_int_param(GameParams& params, const std::string& key, int default_value, int min_value,
                   int max_value, const std::string& game);
void refuse_unknown_params(const GameParams& params, const std::string& game,
                           const std::string& accepted = "");

// The factory of a game that takes no parameters: refuses any, then makes the game.
template <typename G>
std::unique_ptr<Game> make_parameterless_game(GameParams& params, const std::string& game) {
  refuse_unknown_params(params, game);
  return std::make_unique<G>();
}

// For games whose actions a human types as one digit 1..count, the action being the digit
// minus one (Tic-tac-toe's cells, Connect Four's columns): the text of an action, and back.
// parse_digit_action throws GameError "'<text>' is not a <what>: type a number 1-<count>
// (<hint>)". count is at most 9.
std::string digit_action_to_string(Action a);
Action parse_digit_action(const std::string& text, int count, const std::string& what,
                          const std::string& hint);

}  // namespace rz
