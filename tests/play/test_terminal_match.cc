// TerminalMatch without a process: the conversation logic on string streams, driven by a
// real search (uniform prior), for the rule that a plain alternating game never exercises:
// in Dots and Boxes whoever completes a box moves again, person or agent.
#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "common/game.h"
#include "common/mcts/uniform_evaluator.h"
#include "common/play/terminal_match.h"
#include "tests/support/files.h"

using namespace rz;
using namespace rz::testing;

TEST_CASE("terminal match: in Dots and Boxes the side that completes a box is asked again") {
  const auto game = make_game("dotsandboxes:rows=2,cols=2");
  UniformEvaluator evaluator(*game);
  // The person cycles through every edge: each turn the next free one in the cycle is
  // played, the drawn ones are refused with one line.
  std::string input;
  const int edges = game->num_actions();
  for (int round = 0; round < edges + 1; ++round)
    for (Action a = 0; a < edges; ++a) input += game->action_to_string(a) + "\n";
  for (int human = 0; human < 2; ++human) {
    AgentMover agent(*game, evaluator, 8, /*seed=*/3);
    std::istringstream in(input);
    std::ostringstream out;
    TerminalMatch match(*game, agent, human, in, out, /*echo_input=*/true);
    const MatchOutcome outcome = match.play();
    INFO(out.str());
    REQUIRE(outcome.end == MatchEnd::kFinished);
    // Replay the transcript, checking that every move came from the side the game said was
    // to move, and count the turns where a side moved twice in a row.
    auto state = game->new_initial_state();
    const auto lines = split_lines(out.str());
    int repeats = 0, last_mover = -1;
    for (size_t i = 0; i < lines.size(); ++i) {
      int mover = -1;
      std::string text;
      if (starts_with(lines[i], "Your move (") && i + 1 < lines.size() &&
          !starts_with(lines[i + 1], "Illegal move:") &&
          !starts_with(lines[i + 1], "Not a move:")) {
        mover = human;
        text = lines[i].substr(lines[i].find("> ") + 2);
      } else if (starts_with(lines[i], "Agent (")) {
        mover = 1 - human;
        const size_t p = lines[i].find(" plays ") + 7;
        text = lines[i].substr(p, lines[i].find(" after ") - p);
      } else {
        continue;
      }
      REQUIRE_FALSE(state->is_terminal());
      CHECK(state->current_player() == mover);
      const Action a = game->parse_action(text);
      REQUIRE(state->is_legal(a));
      state->apply(a);
      repeats += mover == last_mover;
      last_mover = mover;
    }
    REQUIRE(state->is_terminal());
    CHECK(outcome.moves == state->move_number());
    CHECK(outcome.human_return == state->returns(human));
    CHECK(repeats > 0);  // with 4 boxes, someone completed one and moved again
    CHECK_THAT(lines.back(), Catch::StartsWith("Result: " + outcome_words(outcome.human_return)));
  }
}
