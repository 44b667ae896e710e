#include "common/play/terminal_match.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <istream>
#include <ostream>
#include <stdexcept>

#include "common/text_parse.h"

namespace rz {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Echoing what a person typed back must not break the one-line promise or the terminal:
// control bytes become '?', and the echo is cut short.
std::string printable(const std::string& s) {
  std::string r;
  for (char c : s.substr(0, 40)) r += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (s.size() > 40) r += "...";
  return r;
}

// A GameError message is meant to be one line; make sure of it.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

const char* side(int player) {
  return player == 0 ? "first player" : "second player";
}

}  // namespace

std::string outcome_words(float human_return) {
  return human_return > 0 ? "you win" : human_return < 0 ? "the agent wins" : "draw";
}

TerminalMatch::TerminalMatch(const Game& game, AgentMover& agent, int human_player,
                             std::istream& in, std::ostream& out, bool echo_input)
    : game_(game),
      agent_(agent),
      human_(human_player),
      in_(in),
      out_(out),
      echo_input_(echo_input) {
  if (human_player != 0 && human_player != 1)
    throw std::invalid_argument("human_player must be 0 (first) or 1 (second)");
}

MatchOutcome TerminalMatch::play() {
  MatchOutcome outcome;
  auto state = game_.new_initial_state();
  out_ << fmt::format(
      "You are the {} ({}). Type a move as the board shows it; 'help' for "
      "commands.\n",
      side(human_), human_ == 0 ? "you move first" : "the agent moves first");
  bool board_shown = false;
  while (!state->is_terminal()) {
    if (state->current_player() == human_) {
      if (!board_shown) out_ << "\n" << state->to_string();
      board_shown = true;
      const Action a = read_human_move(*state, &outcome.end);
      if (a == kInvalidAction) {
        out_ << (outcome.end == MatchEnd::kQuit ? "You left the game.\n"
                                                : "\nInput ended: game abandoned.\n");
        outcome.moves = state->move_number();
        return outcome;
      }
      state->apply(a);
      board_shown = false;
    } else {
      const AgentThought t = agent_.think(*state);
      out_ << "\n"
           << fmt::format("Agent ({}) plays {}", side(1 - human_), game_.action_to_string(t.chosen))
           << (t.simulations > 0 ? fmt::format(" after {} simulations\n", t.simulations)
                                 : std::string(" (raw network policy, no search)\n"))
           << describe_thought(game_, t);
      state->apply(t.chosen);
      board_shown = false;
    }
    out_.flush();
  }
  outcome.end = MatchEnd::kFinished;
  outcome.human_return = state->returns(human_);
  outcome.moves = state->move_number();
  out_ << "\n"
       << state->to_string()
       << fmt::format("Result: {} (your return {:+g}, after {} moves).\n",
                      outcome_words(outcome.human_return), outcome.human_return, outcome.moves);
  out_.flush();
  return outcome;
}

Action TerminalMatch::read_human_move(const State& state, MatchEnd* end) {
  std::string line;
  while (true) {
    out_ << fmt::format("Your move ({})> ", side(human_));
    out_.flush();
    if (!std::getline(in_, line)) {
      *end = MatchEnd::kInputEnded;
      return kInvalidAction;
    }
    if (echo_input_) out_ << printable(line) << "\n";
    const std::string text = trim(line);
    if (text.empty()) continue;
    const std::string command = lower(text);
    if (command == "quit" || command == "exit" || command == "q") {
      *end = MatchEnd::kQuit;
      return kInvalidAction;
    }
    if (command == "help" || command == "?") {
      print_help(state);
      continue;
    }
    if (command == "moves" || command == "legal") {
      out_ << "Legal moves: " << legal_moves_text(state) << "\n";
      continue;
    }
    if (command == "board") {
      out_ << state.to_string();
      continue;
    }
    Action a = kInvalidAction;
    try {
      a = game_.parse_action(text);
    } catch (const std::exception& e) {  // GameError by contract; anything else is as bad
      out_ << "Not a move: " << one_line(e.what()) << " ('help' lists commands)\n";
      continue;
    }
    if (a < 0 || a >= game_.num_actions() || !state.is_legal(a)) {
      out_ << fmt::format("Illegal move: '{}' is not allowed in this position; legal moves: {}\n",
                          printable(text), legal_moves_text(state));
      continue;
    }
    return a;
  }
}

void TerminalMatch::print_help(const State& state) {
  out_ << "Type a move as the board shows it (legal now: " << legal_moves_text(state) << "),\n"
       << "or a command: 'moves' lists legal moves, 'board' shows the board, 'quit' ends the "
          "game.\n"
       << "After each agent move: its value for itself in [-1, 1] (+1 = sure win), the same as\n"
       << "an expected score (win 1, draw 1/2), and the moves it searched most with their share\n"
       << "of the simulations, mean value Q and the network's prior.\n";
}

std::string TerminalMatch::legal_moves_text(const State& state) const {
  std::string s;
  for (Action a : state.legal_actions()) {
    if (!s.empty()) s += ", ";
    s += game_.action_to_string(a);
  }
  return s;
}

}  // namespace rz
