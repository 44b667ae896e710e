#include "common/eval/arena.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace rz {

MatchStats ArenaResult::stats() const {
  return match_stats(wins[0] + wins[1], draws[0] + draws[1], losses[0] + losses[1]);
}

ArenaResult play_arena(const Game& game, Agent& a, Agent& b, int games,
                       const std::vector<std::vector<Action>>& openings,
                       const std::function<void(const ArenaGame&)>& on_game) {
  ArenaResult result;
  for (int i = 0; i < games; ++i) {
    ArenaGame record;
    record.index = i;
    record.a_first = i % 2 == 0;
    if (!openings.empty()) record.opening = openings[(i / 2) % openings.size()];
    auto state = game.new_initial_state();
    for (Action action : record.opening) {
      if (state->is_terminal() || !state->is_legal(action))
        throw GameError(
            fmt::format("opening {} plays an illegal move or goes past the end of "
                        "the game: give open positions",
                        (i / 2) % openings.size() + 1));
      state->apply(action);
      record.moves.push_back(action);
    }
    if (state->is_terminal())
      throw GameError("an opening position is already over: give open positions");
    const int a_player = record.a_first ? 0 : 1;
    while (!state->is_terminal()) {
      Agent& mover = state->current_player() == a_player ? a : b;
      const Action action = mover.choose(*state, record.moves);
      if (!state->is_legal(action))
        throw std::logic_error(
            fmt::format("agent {} chose illegal action {}", mover.name(), action));
      state->apply(action);
      record.moves.push_back(action);
    }
    record.a_return = state->returns(a_player);
    const int side = record.a_first ? 0 : 1;
    if (record.a_return > 0)
      ++result.wins[side];
    else if (record.a_return < 0)
      ++result.losses[side];
    else
      ++result.draws[side];
    if (on_game) on_game(record);
  }
  return result;
}

std::vector<std::vector<Action>> read_openings(const Game& game, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw GameError(fmt::format("cannot read openings file '{}': check the path", path));
  std::vector<std::vector<Action>> openings;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    std::istringstream fields(line);
    std::string moves;
    if (!(fields >> moves)) continue;
    auto state = game.new_initial_state();
    std::vector<Action> opening;
    for (size_t k = 0; k < moves.size(); ++k) {
      const std::string where =
          fmt::format("{}:{}: move {} of '{}'", path, line_number, k + 1, moves);
      Action action;
      try {
        action = game.parse_action(std::string(1, moves[k]));
      } catch (const GameError& e) {
        throw GameError(fmt::format("{}: {}", where, e.what()));
      }
      if (state->is_terminal()) throw GameError(fmt::format("{}: the game is already over", where));
      if (!state->is_legal(action)) throw GameError(fmt::format("{}: illegal move", where));
      state->apply(action);
      opening.push_back(action);
    }
    if (state->is_terminal())
      throw GameError(fmt::format("{}:{}: '{}' ends the game: openings must be open positions",
                                  path, line_number, moves));
    openings.push_back(std::move(opening));
  }
  if (openings.empty()) throw GameError(fmt::format("openings file '{}' holds no position", path));
  return openings;
}

}  // namespace rz
