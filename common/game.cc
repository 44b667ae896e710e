#include "common/game.h"

#include <fmt/format.h>

#include <algorithm>

namespace rz {

// Factories, declared from the registry list.
#define RZ_GAME(name, factory) std::unique_ptr<Game> factory(GameParams& params);
#include "common/games/game_list.h"
#undef RZ_GAME

namespace {

struct Registration {
  const char* name;
  std::unique_ptr<Game> (*factory)(GameParams&);
};

const Registration kGames[] = {
#define RZ_GAME(name, factory) {name, &factory},
#include "common/games/game_list.h"
#undef RZ_GAME
};

std::string joined_names() {
  std::string out;
  for (const auto& g : kGames) out += (out.empty() ? "" : ", ") + std::string(g.name);
  return out;
}

}  // namespace

std::unique_ptr<Game> make_game(const std::string& spec) {
  const auto colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  GameParams params;
  if (colon != std::string::npos) {
    std::string rest = spec.substr(colon + 1);
    size_t pos = 0;
    while (pos <= rest.size() && !rest.empty()) {
      size_t comma = rest.find(',', pos);
      if (comma == std::string::npos) comma = rest.size();
      const std::string kv = rest.substr(pos, comma - pos);
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size())
        throw GameError(fmt::format(
            "malformed game parameter '{}' in '{}': write name:key=value,key=value", kv, spec));
      if (!params.emplace(kv.substr(0, eq), kv.substr(eq + 1)).second)
        throw GameError(fmt::format("game parameter '{}' is given twice in '{}': keep one",
                                    kv.substr(0, eq), spec));
      pos = comma + 1;
      if (comma == rest.size()) break;
    }
  }
  for (const auto& g : kGames)
    if (name == g.name) return g.factory(params);
  throw GameError(fmt::format("unknown game '{}': choose one of {}", name, joined_names()));
}

std::vector<std::string> registered_games() {
  std::vector<std::string> out;
  for (const auto& g : kGames) out.emplace_back(g.name);
  return out;
}

int take_int_param(GameParams& params, const std::string& key, int default_value, int min_value,
                   int max_value, const std::string& game) {
  auto it = params.find(key);
  if (it == params.end()) return default_value;
  const std::string text = it->second;
  params.erase(it);
  size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || value < min_value || value > max_value)
    throw GameError(fmt::format("{}: parameter {}={} is invalid: use an integer in [{}, {}]", game,
                                key, text, min_value, max_value));
  return value;
}

void refuse_unknown_params(const GameParams& params, const std::string& game,
                           const std::string& accepted) {
  if (params.empty()) return;
  throw GameError(fmt::format("{}: unknown parameter '{}': {}", game, params.begin()->first,
                              accepted.empty()
                                  ? "this game takes no parameters, write just '" + game + "'"
                                  : "the parameters are " + accepted));
}

}  // namespace rz
