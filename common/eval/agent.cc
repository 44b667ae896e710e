#include "common/eval/agent.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "common/mcts/mcts_player.h"
#include "common/mcts/rollout_evaluator.h"
#include "common/solver/connect4_solver.h"
#include "common/text_parse.h"

namespace rz {
namespace {

// Uniform choice among `best` with the agent's generator: variety between games.
Action pick(const std::vector<Action>& best, std::mt19937_64& rng) {
  return best[std::uniform_int_distribution<size_t>(0, best.size() - 1)(rng)];
}

class RandomAgent final : public Agent {
 public:
  explicit RandomAgent(uint64_t seed) : rng_(seed) {}
  std::string name() const override { return "random"; }
  Action choose(const State& state, const std::vector<Action>&) override {
    return pick(state.legal_actions(), rng_);
  }

 private:
  std::mt19937_64 rng_;
};

class MctsAgent final : public Agent {
 public:
  MctsAgent(const Game& game, std::unique_ptr<Evaluator> evaluator, const MctsConfig& config,
            uint64_t seed, std::string name)
      : evaluator_(std::move(evaluator)),
        player_(game, *evaluator_, config, seed),
        name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Action choose(const State& state, const std::vector<Action>&) override {
    return player_.choose(state);
  }

 private:
  std::unique_ptr<Evaluator> evaluator_;
  MctsPlayer player_;
  std::string name_;
};

class PolicyAgent final : public Agent {
 public:
  PolicyAgent(const Game& game, std::unique_ptr<Evaluator> evaluator, std::string name)
      : evaluator_(std::move(evaluator)), policy_(game.num_actions()), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Action choose(const State& state, const std::vector<Action>&) override {
    const State* batch[1] = {&state};
    float value = 0;
    evaluator_->evaluate(batch, 1, policy_.data(), &value);
    Action best = kInvalidAction;
    for (Action a : state.legal_actions())
      if (best == kInvalidAction || policy_[a] > policy_[best]) best = a;
    return best;
  }

 private:
  std::unique_ptr<Evaluator> evaluator_;
  std::vector<float> policy_;
  std::string name_;
};

class SolverAgent final : public Agent {
 public:
  // 2^22 entries (20 MiB): two solver agents in one arena stay small.
  explicit SolverAgent(uint64_t seed) : solver_(22), rng_(seed) {}
  std::string name() const override { return "solver"; }
  Action choose(const State& state, const std::vector<Action>& history) override {
    // The solver has its own board (ground truth must not share the game's code), rebuilt
    // from the history; the move count ties the two together.
    if (static_cast<int>(history.size()) != state.move_number())
      throw std::logic_error("solver agent: history does not lead to the given state");
    Connect4Bitboard board;
    for (Action a : history) board.play_col(a);
    return pick(solver_.optimal_columns(board), rng_);
  }

 private:
  Connect4Solver solver_;
  std::mt19937_64 rng_;
};

class MinimaxAgent final : public Agent {
 public:
  explicit MinimaxAgent(uint64_t seed) : rng_(seed) {}
  std::string name() const override { return "minimax"; }
  Action choose(const State& state, const std::vector<Action>&) override {
    float best_value = -2;
    std::vector<Action> best;
    for (Action a : state.legal_actions()) {
      auto child = state.clone();
      child->apply(a);
      const float v = value_for(*child, state.current_player());
      if (v > best_value + 1e-6f) {
        best_value = v;
        best.clear();
      }
      if (v > best_value - 1e-6f) best.push_back(a);
    }
    return pick(best, rng_);
  }

 private:
  // Value of `state` for `player` under perfect play by both sides (memoised by hash; the
  // games this agent accepts have collision-free hashes).
  float value_for(const State& state, int player) {
    if (state.is_terminal()) return state.returns(player);
    const float v = value_for_mover(state);
    return state.current_player() == player ? v : -v;
  }
  float value_for_mover(const State& state) {
    const auto it = memo_.find(state.hash());
    if (it != memo_.end()) return it->second;
    const int me = state.current_player();
    float best = -2;
    for (Action a : state.legal_actions()) {
      auto child = state.clone();
      child->apply(a);
      best = std::max(best, value_for(*child, me));
    }
    memo_.emplace(state.hash(), best);
    return best;
  }

  std::unordered_map<uint64_t, float> memo_;
  std::mt19937_64 rng_;
};

MctsConfig evaluation_config(int simulations, bool gumbel) {
  MctsConfig config;
  config.simulations = simulations;
  config.gumbel = gumbel;
  config.dirichlet_epsilon = 0.0f;  // no root noise: play the best move found
  config.temperature_moves = 0;
  // Keep the subtree below our move and the reply (MctsPlayer finds it; an unrelated
  // position, as in move-accuracy sets, starts from an empty tree).
  config.reuse_tree = true;
  config.resign_threshold = -2.0f;
  config.validate();
  return config;
}

int parse_simulations(const std::string& text, const std::string& spec) {
  int n = -1;
  if (!parse_int(text, &n) || n < 0 || n > 10000000)
    throw std::invalid_argument(fmt::format(
        "agent '{}': '{}' is not a number of simulations (a non-negative integer)", spec, text));
  return n;
}

}  // namespace

std::unique_ptr<Agent> make_random_agent(uint64_t seed) {
  return std::make_unique<RandomAgent>(seed);
}

std::unique_ptr<Agent> make_mcts_agent(const Game& game, std::unique_ptr<Evaluator> evaluator,
                                       int simulations, uint64_t seed, std::string name,
                                       bool gumbel) {
  return std::make_unique<MctsAgent>(game, std::move(evaluator),
                                     evaluation_config(simulations, gumbel), seed,
                                     std::move(name));
}

std::unique_ptr<Agent> make_policy_agent(const Game& game, std::unique_ptr<Evaluator> evaluator,
                                         std::string name) {
  return std::make_unique<PolicyAgent>(game, std::move(evaluator), std::move(name));
}

std::unique_ptr<Agent> make_solver_agent(const Game& game, uint64_t seed) {
  if (game.spec() != "connect4")
    throw std::invalid_argument(fmt::format(
        "agent 'solver' plays only connect4, not '{}': use minimax for tiny games", game.spec()));
  return std::make_unique<SolverAgent>(seed);
}

std::unique_ptr<Agent> make_minimax_agent(const Game& game, uint64_t seed) {
  // Exhaustive search with a memo: fine for tic-tac-toe's 5478 positions, hopeless beyond a
  // few million.
  if (game.num_actions() > 12 || game.max_game_length() > 12)
    throw std::invalid_argument(
        fmt::format("agent 'minimax' is for tiny games like tictactoe, not '{}'{}", game.spec(),
                    game.spec() == "connect4" ? ": use solver" : ""));
  return std::make_unique<MinimaxAgent>(seed);
}

std::unique_ptr<Agent> make_agent(const std::string& spec, const Game& game, uint64_t seed,
                                  const NetEvaluatorFactory& net_factory) {
  const auto colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  const auto no_argument = [&] {
    if (colon != std::string::npos)
      throw std::invalid_argument(
          fmt::format("agent '{}': '{}' takes no ':' argument", spec, kind));
  };
  if (kind == "random") {
    no_argument();
    return make_random_agent(seed);
  }
  if (kind == "solver") {
    no_argument();
    return make_solver_agent(game, seed);
  }
  if (kind == "minimax") {
    no_argument();
    return make_minimax_agent(game, seed);
  }
  if (kind == "mcts") {
    const int sims = parse_simulations(rest, spec);
    if (sims < 1)
      throw std::invalid_argument(fmt::format("agent '{}': write mcts:N with N >= 1", spec));
    return make_mcts_agent(game,
                           std::make_unique<RolloutEvaluator>(game, seed ^ 0x9e3779b97f4a7c15ULL),
                           sims, seed, spec);
  }
  if (kind == "net" || kind == "gnet") {
    if (!net_factory)
      throw std::invalid_argument(fmt::format("agent '{}': this tool cannot load networks", spec));
    // net:PATH or net:PATH:N (the path itself may hold ':' only before the last one).
    std::string path = rest;
    int sims = 0;
    const auto last = rest.rfind(':');
    if (last != std::string::npos) {
      path = rest.substr(0, last);
      sims = parse_simulations(rest.substr(last + 1), spec);
    }
    if (path.empty())
      throw std::invalid_argument(
          fmt::format("agent '{}': write {}:CHECKPOINT_OR_BLOB[:SIMULATIONS]", spec, kind));
    auto evaluator = net_factory(path, game);
    if (sims == 0) return make_policy_agent(game, std::move(evaluator), spec);
    return make_mcts_agent(game, std::move(evaluator), sims, seed, spec, kind == "gnet");
  }
  throw std::invalid_argument(fmt::format(
      "unknown agent '{}': use random, mcts:N, solver, minimax or net:CHECKPOINT_OR_BLOB[:N]",
      spec));
}

}  // namespace rz
