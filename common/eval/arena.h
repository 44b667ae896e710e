// The arena: agent A against agent B over many games, colours alternating, optionally from a
// list of opening positions (each opening played once with each colour, so neither side
// profits from a lopsided opening). Reports A's wins, draws and losses overall and per
// colour, and the match statistics (match_stats.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/eval/agent.h"
#include "common/eval/match_stats.h"
#include "common/game.h"

namespace rz {

struct ArenaGame {
  int index = 0;
  bool a_first = true;          // A moved first (was player 0)
  std::vector<Action> opening;  // the moves played before the agents took over
  std::vector<Action> moves;    // every move of the game, opening included
  float a_return = 0;           // A's outcome: +1 win, 0 draw, -1 loss
};

struct ArenaResult {
  // From A's point of view; [0] = games where A moved first, [1] = A moved second.
  int wins[2] = {0, 0}, draws[2] = {0, 0}, losses[2] = {0, 0};
  int games() const { return wins[0] + wins[1] + draws[0] + draws[1] + losses[0] + losses[1]; }
  MatchStats stats() const;
};

// Plays `games` games; game i uses opening (i / 2) mod openings.size() (none if empty) and
// A moves first in even games. Openings are action sequences from the initial state; one
// that ends the game or plays an illegal move throws GameError. `on_game` sees each game.
ArenaResult play_arena(const Game& game, Agent& a, Agent& b, int games,
                       const std::vector<std::vector<Action>>& openings = {},
                       const std::function<void(const ArenaGame&)>& on_game = nullptr);

// Reads openings: the first field of each non-empty line, one character per action as
// Game::parse_action reads it (Connect Four position files: "4455 18" -> 3 3 4 4). Throws
// GameError naming the file and line for a bad character, an illegal move or a finished game.
std::vector<std::vector<Action>> read_openings(const Game& game, const std::string& path);

}  // namespace rz
