// TerminalMatch: one game between a person (typing on `in`) and an AgentMover, shown on
// `out`. It is the whole conversation of ringzero-play, kept apart from process start-up so
// that it depends only on the Game and Evaluator interfaces.
//
// The person's input is never trusted: every line is either a command (help, moves, board,
// quit), a move the game parses (Game::parse_action) and the position allows
// (State::is_legal), or it is answered with ONE line saying what was wrong and what to type,
// and the same question is asked again. End of input ends the game cleanly (abandoned).
// Whose turn it is always comes from State::current_player(): in Dots and Boxes a player who
// completes a box moves again, whether person or agent.
#pragma once

#include <iosfwd>
#include <string>

#include "common/game.h"
#include "common/play/agent_move.h"

namespace rz {

enum class MatchEnd { kFinished, kQuit, kInputEnded };

struct MatchOutcome {
  MatchEnd end = MatchEnd::kFinished;
  float human_return = 0;  // State::returns(human) when finished
  int moves = 0;           // moves played by both sides
};

class TerminalMatch {
 public:
  // human_player: 0 (the person moves first) or 1.
  // echo_input: repeat each line read after the prompt, so that a transcript of piped input
  // (not a terminal, which echoes by itself) reads like the conversation it was.
  TerminalMatch(const Game& game, AgentMover& agent, int human_player, std::istream& in,
                std::ostream& out, bool echo_input = false);

  MatchOutcome play();

 private:
  // Reads lines until the person gives a legal move (returned) or ends the game
  // (kInvalidAction, *end set).
  Action read_human_move(const State& state, MatchEnd* end);
  void print_help(const State& state);
  std::string legal_moves_text(const State& state) const;

  const Game& game_;
  AgentMover& agent_;
  const int human_;
  std::istream& in_;
  std::ostream& out_;
  const bool echo_input_;
};

// "you win", "the agent wins" or "draw" from the person's return, for the result line.
std::string outcome_words(float human_return);

}  // namespace rz
