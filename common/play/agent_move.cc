#include "common/play/agent_move.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace rz {

MctsConfig match_config(int simulations) {
  MctsConfig config;
  config.simulations = simulations;
  config.dirichlet_epsilon = 0.0f;  // noise is for self-play exploration, not for a match
  config.temperature_moves = 0;     // always the most visited move
  config.reuse_tree = true;         // the subtree below the agent's move and the reply is kept
  config.resign_threshold = -2.0f;  // the agent plays every game out against a person
  return config;
}

AgentMover::AgentMover(const Game& game, Evaluator& evaluator, int simulations, uint64_t seed)
    : game_(game), evaluator_(evaluator), simulations_(simulations) {
  if (simulations < 0)
    throw std::invalid_argument(
        fmt::format("simulations={} is out of range: use 0 (raw policy) or more", simulations));
  if (simulations > 0)
    player_ = std::make_unique<MctsPlayer>(game, evaluator, match_config(simulations), seed);
}

AgentThought AgentMover::think(const State& state) {
  if (state.is_terminal())
    throw std::invalid_argument("the game is over: the agent has no move to make");
  return player_ ? search(state) : raw_policy(state);
}

AgentThought AgentMover::search(const State& state) {
  AgentThought t;
  t.simulations = simulations_;
  t.chosen = player_->choose(state, nullptr, &t.value);
  // Root children straight from the tree: W is for the player who chose the move, i.e. the
  // agent at the root, so Q = W / N is already the agent's view.
  const SearchTree& tree = player_->last_tree();
  const Node& root = tree.root();
  uint64_t total = 0;
  for (int b = 0; b < root.num_children; ++b) total += tree.node(root.first_child + b).N;
  for (int b = 0; b < root.num_children; ++b) {
    const Node& c = tree.node(root.first_child + b);
    if (c.N == 0) continue;
    ConsideredMove m;
    m.action = c.action;
    m.visits = c.N;
    m.share = total ? static_cast<float>(c.N) / static_cast<float>(total) : 0.0f;
    m.q = c.Q();
    m.prior = c.P;
    t.moves.push_back(m);
  }
  std::stable_sort(t.moves.begin(), t.moves.end(),
                   [](const ConsideredMove& a, const ConsideredMove& b) {
                     return a.visits != b.visits ? a.visits > b.visits : a.prior > b.prior;
                   });
  return t;
}

AgentThought AgentMover::raw_policy(const State& state) {
  std::vector<float> policy(static_cast<size_t>(game_.num_actions()));
  float value = 0;
  const State* batch[1] = {&state};
  evaluator_.evaluate(batch, 1, policy.data(), &value);
  AgentThought t;
  t.value = value;
  for (Action a : state.legal_actions()) {
    ConsideredMove m;
    m.action = a;
    m.share = m.prior = policy[static_cast<size_t>(a)];
    t.moves.push_back(m);
  }
  // Highest prior first; ties keep increasing action order (legal_actions is sorted).
  std::stable_sort(
      t.moves.begin(), t.moves.end(),
      [](const ConsideredMove& a, const ConsideredMove& b) { return a.prior > b.prior; });
  t.chosen = t.moves.front().action;
  return t;
}

std::string describe_thought(const Game& game, const AgentThought& t, int max_moves) {
  // (v + 1) / 2 is the expected score when a win scores 1, a draw 1/2 and a loss 0: the
  // value head's target is the game's return, so this is the network's "win probability"
  // with draws counted as half a win.
  std::string s = fmt::format(
      "  value {:+.2f} for the agent = expected score {:.0f}% (win 1, draw 1/2, loss 0)\n", t.value,
      50.0 * (static_cast<double>(t.value) + 1.0));
  const int shown = std::min<int>(max_moves, static_cast<int>(t.moves.size()));
  size_t width = 4;
  for (int i = 0; i < shown; ++i)
    width = std::max(width, game.action_to_string(t.moves[static_cast<size_t>(i)].action).size());
  if (t.simulations > 0)
    s += fmt::format("  {:<{}}  visits  Q(agent)  prior\n", "move", width);
  else
    s += fmt::format("  {:<{}}  prior\n", "move", width);
  for (int i = 0; i < shown; ++i) {
    const ConsideredMove& m = t.moves[static_cast<size_t>(i)];
    const std::string name = game.action_to_string(m.action);
    if (t.simulations > 0)
      s += fmt::format("  {:<{}}  {:>5.1f}%  {:>+8.2f}  {:>4.0f}%\n", name, width, 100.0 * m.share,
                       m.q, 100.0 * m.prior);
    else
      s += fmt::format("  {:<{}}  {:>4.0f}%\n", name, width, 100.0 * m.prior);
  }
  return s;
}

}  // namespace rz
