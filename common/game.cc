#include "common/game.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/text_parse.h"

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

namespace {
// Calls read(mask, n) with the state's legal mask of n bytes: on the stack for every game of
// today (Dots and Boxes 5x5 has 60 actions), so the queries below allocate nothing of their own.
template <typename Read>
auto read_legal_mask(const State& state, Read read) {
  constexpr int kOnStack = 256;
  const int n = state.num_actions();
  uint8_t on_stack[kOnStack];
  std::vector<uint8_t> on_heap;
  uint8_t* mask = on_stack;
  if (n > kOnStack) {
    on_heap.resize(static_cast<size_t>(n));
    mask = on_heap.data();
  }
  state.legal_mask(mask);
  return read(mask, n);
}
}  // namespace

std::vector<Action> State::legal_actions() const {
  return read_legal_mask(*this, [](const uint8_t* mask, int n) {
    std::vector<Action> out;
    for (Action a = 0; a < n; ++a)
      if (mask[a]) out.push_back(a);
    return out;
  });
}

bool State::is_legal(Action a) const {
  if (a < 0 || a >= num_actions()) return false;
  return read_legal_mask(*this, [a](const uint8_t* mask, int) { return mask[a] != 0; });
}

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
  int value = 0;
  if (!parse_int(text, &value) || value < min_value || value > max_value)
    throw GameError(fmt::format("{}: parameter {}={} is invalid: use an integer in [{}, {}]", game,
                                key, text, min_value, max_value));
  return value;
}

std::string digit_action_to_string(Action a) {
  return std::to_string(a + 1);
}

Action parse_digit_action(const std::string& text, int count, const std::string& what,
                          const std::string& hint) {
  if (text.size() == 1 && text[0] >= '1' && text[0] < '1' + count) return text[0] - '1';
  throw GameError(
      fmt::format("'{}' is not a {}: type a number 1-{} ({})", text, what, count, hint));
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
