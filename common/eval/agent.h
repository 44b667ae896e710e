// Agents: anything that picks a move in a position, behind one interface, so the arena and
// the accuracy measurement treat a network, a baseline and a perfect player alike.
//
// Baselines (all torch-free; the network agents are built by ringzero-eval, which links the
// network, through the NetEvaluatorFactory hook of make_agent):
//   random      uniform over the legal moves;
//   mcts:N      plain MCTS: N simulations, uniform prior, one random rollout per leaf;
//   solver      Connect Four perfect play (common/solver), random among the optimal moves;
//   minimax     perfect play by exhaustive search, for tiny games (tic-tac-toe);
//   net:PATH[:N] a checkpoint or weight blob: N MCTS simulations guided by the network, or
//               its raw policy (argmax over the legal moves) when N is 0 or absent;
//   gnet:PATH[:N] the same with Gumbel AlphaZero's root search (mcts.gumbel, no noise:
//               common/mcts/gumbel_root.h) instead of PUCT at the root.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/evaluator.h"
#include "common/game.h"

namespace rz {

class Agent {
 public:
  virtual ~Agent() = default;
  // A short description for reports, e.g. "mcts:200".
  virtual std::string name() const = 0;
  // The move to play in `state`, a non-terminal position reached from the initial state by
  // `history` (perfect players replay it on their own board).
  virtual Action choose(const State& state, const std::vector<Action>& history) = 0;
};

std::unique_ptr<Agent> make_random_agent(uint64_t seed);
// MCTS with `simulations` simulations over `evaluator` (owned), evaluation settings: no
// root noise, the most visited move; with `gumbel`, Gumbel AlphaZero's root without noise
// (the sequential halving's survivor).
std::unique_ptr<Agent> make_mcts_agent(const Game& game, std::unique_ptr<Evaluator> evaluator,
                                       int simulations, uint64_t seed, std::string name,
                                       bool gumbel = false);
// The evaluator's raw policy: the legal move of highest prior (ties: lowest action).
std::unique_ptr<Agent> make_policy_agent(const Game& game, std::unique_ptr<Evaluator> evaluator,
                                         std::string name);
// Perfect Connect Four play; `game` must be connect4. Shallow positions (under ~8 stones)
// can take minutes to solve: start solver games from an opening file (arena --openings).
std::unique_ptr<Agent> make_solver_agent(const Game& game, uint64_t seed);
// Perfect play by memoised negamax over the whole game tree; refuses games too big for it.
std::unique_ptr<Agent> make_minimax_agent(const Game& game, uint64_t seed);

// Builds an evaluator for the network in a checkpoint or blob file, for `game` (throws a
// one-line error if the file is for another game).
using NetEvaluatorFactory =
    std::function<std::unique_ptr<Evaluator>(const std::string& path, const Game& game)>;

// Parses an agent SPEC (see the file comment). Throws std::invalid_argument with a one-line
// message naming the spec and the accepted forms; `net:` specs need `net_factory`.
std::unique_ptr<Agent> make_agent(const std::string& spec, const Game& game, uint64_t seed,
                                  const NetEvaluatorFactory& net_factory = nullptr);

}  // namespace rz
