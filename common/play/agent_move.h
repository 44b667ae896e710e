// AgentMover: the agent's side of a game against a person. It picks a move and says why, in
// the numbers a player can read: the value of the position for the agent and the moves it
// considered, with their share of the search.
//
// With simulations > 0 it is AlphaZero's match player (MctsPlayer, evaluation settings: no
// root noise, the most visited move). With 0 it plays the network's raw policy (the legal
// move of highest prior) and reports the priors instead of visit shares: a cheap way to see
// what the network alone has learnt.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/evaluator.h"
#include "common/game.h"
#include "common/mcts/mcts_player.h"

namespace rz {

// One root move the agent considered.
struct ConsideredMove {
  Action action = kInvalidAction;
  uint32_t visits = 0;  // N(root, a); 0 for the raw policy
  float share = 0;      // visits / total visits, or the prior for the raw policy
  float q = 0;          // mean value Q(root, a) for the agent; only when visits > 0
  float prior = 0;      // the network's P(root, a)
};

struct AgentThought {
  Action chosen = kInvalidAction;
  float value = 0;                    // the root's value for the agent, in [-1, 1]
  int simulations = 0;                // 0: raw policy
  std::vector<ConsideredMove> moves;  // most visited (or most probable) first
};

class AgentMover {
 public:
  // simulations >= 0; throws std::invalid_argument otherwise.
  AgentMover(const Game& game, Evaluator& evaluator, int simulations, uint64_t seed);

  // Chooses a move in a non-terminal `state` where the agent is to move.
  AgentThought think(const State& state);

  int simulations() const { return simulations_; }

 private:
  AgentThought search(const State& state);
  AgentThought raw_policy(const State& state);

  const Game& game_;
  Evaluator& evaluator_;
  const int simulations_;
  std::unique_ptr<MctsPlayer> player_;  // null for the raw policy
};

// MctsConfig for match play: `simulations`, no root noise, no sampling.
MctsConfig match_config(int simulations);

// The value as a number and as an expected score, then a table of the top `max_moves` moves:
//   value +0.12 for the agent = expected score 56% (win 1, draw 1/2, loss 0)
//   move  visits  Q(agent)  prior
//   5      61.0%     +0.15    40%
//   1      12.0%     -0.02    15%
std::string describe_thought(const Game& game, const AgentThought& thought, int max_moves = 5);

}  // namespace rz
