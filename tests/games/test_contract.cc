// The Game/State contract of common/game.h, checked for every registered game (and several
// Dots and Boxes sizes): symmetries commute with apply, action text round-trips, malformed
// text and bad specs fail with one-line GameErrors, clones and copy_from copies are
// independent, and the three legality queries agree.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/game.h"
#include "tests/support/game_play.h"

namespace rz {
namespace {

const std::vector<std::string> kSpecs = {
    "tictactoe",
    "connect4",
    "dotsandboxes",
    "dotsandboxes:rows=1,cols=1",
    "dotsandboxes:rows=2,cols=3",
    "dotsandboxes:rows=4,cols=1",
    "dotsandboxes:rows=5,cols=5",
};

std::vector<float> observation(const Game& game, const State& state) {
  std::vector<float> obs(game.observation_shape().size(), -7.0f);  // catches unwritten cells
  state.observe(obs.data());
  return obs;
}

std::vector<float> legal_floats(const Game& game, const State& state) {
  std::vector<uint8_t> mask(game.num_actions());
  state.legal_mask(mask.data());
  return std::vector<float>(mask.begin(), mask.end());
}

// A random play line from the initial state, `plies` long or until the game ends.
std::vector<Action> random_line(const Game& game, std::mt19937& rng, int plies) {
  std::vector<Action> line;
  auto state = game.new_initial_state();
  while (!state->is_terminal() && static_cast<int>(line.size()) < plies) {
    const auto legal = state->legal_actions();
    const Action a = legal[std::uniform_int_distribution<size_t>(0, legal.size() - 1)(rng)];
    state->apply(a);
    line.push_back(a);
  }
  return line;
}

// Runs check(game) for every game of kSpecs, naming the spec in any failure.
template <typename Check>
void for_each_game(Check check) {
  for (const auto& spec : kSpecs) {
    INFO(spec);
    check(make_game(spec));
  }
}

// The action that symmetry `sym` maps `a` to, read off the policy transform of a one-hot.
Action transformed_action(const Game& game, int sym, Action a) {
  std::vector<float> policy(game.num_actions(), 0.0f);
  policy[a] = 1.0f;
  game.apply_symmetry(sym, nullptr, policy.data());
  Action found = kInvalidAction;
  for (int i = 0; i < game.num_actions(); ++i) {
    if (policy[i] == 1.0f) {
      REQUIRE(found == kInvalidAction);
      found = i;
    } else {
      REQUIRE(policy[i] == 0.0f);
    }
  }
  REQUIRE(found != kInvalidAction);
  return found;
}

}  // namespace

TEST_CASE("every registered game builds and its spec round-trips", "[games][contract]") {
  const auto names = registered_games();
  CHECK(std::set<std::string>(names.begin(), names.end()) ==
        std::set<std::string>{"tictactoe", "connect4", "dotsandboxes"});
  for_each_game([&](const std::unique_ptr<Game>& game) {
    CHECK(make_game(game->spec())->spec() == game->spec());
    CHECK(game->num_actions() > 0);
    CHECK(game->observation_shape().size() > 0);
    CHECK(game->num_symmetries() >= 1);
  });
  CHECK(make_game("dotsandboxes")->spec() == "dotsandboxes:rows=3,cols=3");
  CHECK(make_game("dotsandboxes:cols=2")->spec() == "dotsandboxes:rows=3,cols=2");
  CHECK(make_game("dotsandboxes:cols=4,rows=2")->spec() == "dotsandboxes:rows=2,cols=4");
}

TEST_CASE("make_game rejects bad specs with a one-line error naming the fix", "[games][contract]") {
  struct Case {
    std::string spec, must_mention;
  };
  const std::vector<Case> cases = {
      {"chess", "choose one of"},
      {"", "choose one of"},
      {"Connect4", "connect4"},
      {"connect4:rows=3", "takes no parameters"},
      {"tictactoe:x=1", "takes no parameters"},
      {"dotsandboxes:rows=0", "[1, 5]"},
      {"dotsandboxes:cols=6", "[1, 5]"},
      {"dotsandboxes:rows=two", "integer"},
      {"dotsandboxes:rows=3x", "integer"},
      {"dotsandboxes:size=3", "rows, cols"},
      {"dotsandboxes:rows", "key=value"},
      {"dotsandboxes:rows=2,,cols=2", "key=value"},
      {"dotsandboxes:=2", "key=value"},
      {"dotsandboxes:rows=2,rows=3", "twice"},
  };
  for (const auto& c : cases) {
    INFO("spec '" << c.spec << "'");
    try {
      make_game(c.spec);
      FAIL("no GameError");
    } catch (const GameError& e) {
      const std::string msg = e.what();
      INFO(msg);
      CHECK(msg.find(c.must_mention) != std::string::npos);
      CHECK(msg.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("action text round-trips and malformed text throws a one-line GameError",
          "[games][contract]") {
  const std::vector<std::string> malformed = {"",  "0",   "-1",  "x",      " ",   "1 1 1 1",
                                              "h", "v 1", "99",  "h 9 9",  "1.5", "v -1 0",
                                              "+", "a1",  "h1x", "v 0 0 0"};
  for_each_game([&](const std::unique_ptr<Game>& game) {
    std::set<std::string> texts;
    for (Action a = 0; a < game->num_actions(); ++a) {
      const std::string text = game->action_to_string(a);
      INFO(text);
      CHECK(game->parse_action(text) == a);
      texts.insert(text);
    }
    CHECK(static_cast<int>(texts.size()) == game->num_actions());
    for (const auto& text : malformed) {
      INFO("text '" << text << "'");
      try {
        const Action a = game->parse_action(text);
        FAIL("parsed as " << a);
      } catch (const GameError& e) {
        CHECK(std::string(e.what()).find('\n') == std::string::npos);
        CHECK(std::string(e.what()).find(text) != std::string::npos);
      }
    }
  });
}

TEST_CASE("legal_mask, legal_actions and is_legal agree and terminal states have no moves",
          "[games][contract]") {
  std::mt19937 rng(11);
  for_each_game([&](const std::unique_ptr<Game>& game) {
    const int n = game->num_actions();
    for (int g = 0; g < 20; ++g) {
      auto state = game->new_initial_state();
      int plies = 0;
      for (;;) {
        CHECK(state->move_number() == plies);
        std::vector<uint8_t> mask(n, 77);
        state->legal_mask(mask.data());
        const auto legal = state->legal_actions();
        CHECK(std::is_sorted(legal.begin(), legal.end()));
        std::vector<Action> from_mask;
        for (Action a = 0; a < n; ++a) {
          REQUIRE((mask[a] == 0 || mask[a] == 1));
          CHECK(static_cast<bool>(mask[a]) == state->is_legal(a));
          if (mask[a]) from_mask.push_back(a);
        }
        CHECK(from_mask == legal);
        CHECK_FALSE(state->is_legal(-1));
        CHECK_FALSE(state->is_legal(n));
        if (state->is_terminal()) {
          CHECK(legal.empty());
          CHECK(state->returns(0) == -state->returns(1));
          CHECK(state->returns(0) >= -1.0f);
          CHECK(state->returns(0) <= 1.0f);
          break;
        }
        CHECK_FALSE(legal.empty());
        state->apply(legal[std::uniform_int_distribution<size_t>(0, legal.size() - 1)(rng)]);
        ++plies;
        REQUIRE(plies <= game->max_game_length());
      }
    }
  });
}

TEST_CASE("clone is independent of the original", "[games][contract]") {
  std::mt19937 rng(5);
  for_each_game([&](const std::unique_ptr<Game>& game) {
    for (int g = 0; g < 10; ++g) {
      const auto line = random_line(*game, rng, 1000);
      // Every prefix that still has a move: clone, move the clone on, the original stays.
      auto state = game->new_initial_state();
      for (Action a : line) {
        const auto obs = observation(*game, *state);
        const auto text = state->to_string();
        const auto hash = state->hash();
        const int player = state->current_player();
        auto copy = state->clone();
        CHECK(copy->hash() == hash);
        CHECK(observation(*game, *copy) == obs);
        copy->apply(a);
        CHECK(copy->move_number() == state->move_number() + 1);
        CHECK(observation(*game, *state) == obs);
        CHECK(state->to_string() == text);
        CHECK(state->hash() == hash);
        CHECK(state->current_player() == player);
        CHECK(state->is_legal(a));
        state->apply(a);
        CHECK(state->hash() == copy->hash());
        CHECK(observation(*game, *state) == observation(*game, *copy));
      }
    }
  });
}

TEST_CASE("copy_from makes an equal, independent state in place", "[games][contract]") {
  std::mt19937 rng(6);
  for_each_game([&](const std::unique_ptr<Game>& game) {
    const auto line = random_line(*game, rng, 1000);
    // One preallocated target, overwritten by every prefix of the game (also by earlier,
    // shorter positions after longer ones: nothing of the old content may survive).
    auto target = game->new_initial_state();
    auto state = game->new_initial_state();
    for (Action a : line) {
      target->copy_from(*state);
      CHECK(target->hash() == state->hash());
      CHECK(target->to_string() == state->to_string());
      CHECK(target->move_number() == state->move_number());
      CHECK(observation(*game, *target) == observation(*game, *state));
      const auto text = state->to_string();
      target->apply(a);
      CHECK(state->to_string() == text);
      state->apply(a);
      CHECK(target->hash() == state->hash());
    }
    auto initial = game->new_initial_state();
    target->copy_from(*initial);
    CHECK(target->to_string() == initial->to_string());
    CHECK(target->hash() == initial->hash());
  });
}

TEST_CASE("symmetries commute with apply, on observations, policies and legal masks",
          "[games][contract][symmetry]") {
  std::mt19937 rng(3);
  for_each_game([&](const std::unique_ptr<Game>& game) {
    const int n = game->num_actions();
    // Each symmetry maps actions one-to-one, and no two symmetries are the same map.
    std::set<std::vector<Action>> permutations;
    for (int s = 0; s < game->num_symmetries(); ++s) {
      std::vector<Action> permutation;
      for (Action a = 0; a < n; ++a) permutation.push_back(transformed_action(*game, s, a));
      CHECK(static_cast<int>(std::set<Action>(permutation.begin(), permutation.end()).size()) == n);
      if (s == 0)
        for (Action a = 0; a < n; ++a) CHECK(permutation[a] == a);
      permutations.insert(permutation);
    }
    CHECK(static_cast<int>(permutations.size()) == game->num_symmetries());
    for (int g = 0; g < 30; ++g) {
      const int plies = std::uniform_int_distribution<int>(0, game->max_game_length())(rng);
      const auto line = random_line(*game, rng, plies);
      const auto state = test::play(*game, line);
      const auto obs = observation(*game, *state);
      const auto legal = legal_floats(*game, *state);

      // Identity changes nothing, even arbitrary values.
      std::vector<float> noise(std::max<int>(obs.size(), n));
      for (auto& x : noise) x = std::uniform_real_distribution<float>(-1, 1)(rng);
      std::vector<float> o = obs, p(noise.begin(), noise.begin() + n);
      game->apply_symmetry(0, o.data(), p.data());
      CHECK(o == obs);
      CHECK(p == std::vector<float>(noise.begin(), noise.begin() + n));

      for (int s = 0; s < game->num_symmetries(); ++s) {
        INFO("symmetry " << s << " after " << line.size() << " plies");
        // The transformed game: the same line, every action transformed.
        std::vector<Action> mapped;
        for (Action a : line) mapped.push_back(transformed_action(*game, s, a));
        const auto image = test::play(*game, mapped);
        CHECK(image->current_player() == state->current_player());
        CHECK(image->is_terminal() == state->is_terminal());
        if (state->is_terminal()) CHECK(image->returns(0) == state->returns(0));

        std::vector<float> t_obs = obs, t_legal = legal;
        game->apply_symmetry(s, t_obs.data(), t_legal.data());
        CHECK(t_obs == observation(*game, *image));
        CHECK(t_legal == legal_floats(*game, *image));

        // Observation and policy transformed in one call agree with separate calls.
        std::vector<float> both_obs = obs, both_pol = legal;
        game->apply_symmetry(s, both_obs.data(), both_pol.data());
        CHECK(both_obs == t_obs);
        CHECK(both_pol == t_legal);

        // Symmetry commutes with apply: one more move, transformed, lands on the image.
        if (!state->is_terminal()) {
          for (Action a : state->legal_actions()) {
            auto next = state->clone();
            next->apply(a);
            auto next_image = image->clone();
            const Action ta = transformed_action(*game, s, a);
            REQUIRE(next_image->is_legal(ta));
            next_image->apply(ta);
            std::vector<float> next_obs = observation(*game, *next);
            game->apply_symmetry(s, next_obs.data(), nullptr);
            CHECK(next_obs == observation(*game, *next_image));
          }
        }
      }
    }
  });
}

TEST_CASE("to_string shows the board and the coordinates a human types", "[games][contract]") {
  for_each_game([&](const std::unique_ptr<Game>& game) {
    const auto state = game->new_initial_state();
    const std::string text = state->to_string();
    CHECK(std::count(text.begin(), text.end(), '\n') >= 2);
  });
}

}  // namespace rz
