// GumbelRoot: the root of Gumbel AlphaZero's search (Danihelka, Guez, Schrittwieser, Silver,
// "Policy improvement by planning with Gumbel", ICLR 2022), for MctsConfig::gumbel.
//
// AlphaZero's root (PUCT, Dirichlet noise, a move sampled from the visit counts) needs many
// simulations before its visit counts are a better policy than the network's; with few (a
// small machine's 40) it can even make the policy worse. Gumbel AlphaZero instead:
//   1. draws g(a) ~ Gumbel(0, 1) per root move (the exploration; none for evaluation) and
//      considers the m moves with the largest g(a) + logits(a) (Gumbel-top-k: sampling m moves
//      without replacement from the policy);
//   2. spends the n simulations on them by sequential halving: log2(m) phases, each giving
//      every remaining move the same share of visits, after which the better half by
//      g(a) + logits(a) + sigma(q(a)) stays;
//   3. plays the survivor, and trains the policy towards pi' = softmax(logits + sigma(completed
//      q)), where a visited move's q is its mean value Q(a), an unvisited one's the "mixed"
//      value (the network's root value averaged with the visited moves' Q by prior), all
//      rescaled to [0, 1] over the root's moves, and sigma(q) = (c_visit + max_b N(b)) *
//      c_scale * q. pi' improves on the policy for any number of simulations (the paper's
//      policy improvement theorem).
// The schedule of step 2 and the completed values follow DeepMind's mctx library
// (get_sequence_of_considered_visits, qtransform_completed_by_mix_value; c_visit 50, c_scale
// 0.1). Our search differs from mctx's in one way that matters here: several walks are in
// flight at once (virtual loss), and a walk that collides with a leaf in flight gives its visit
// back at the end of the round. So the moves still considered are kept explicitly (not read
// off visit counts as mctx does: a move a given-back visit left one behind would be dropped
// for good), each walk goes to the considered move with the fewest visits (ties: the larger
// g + logits + sigma(q)), which is the schedule's order and lets a move that fell behind catch
// up, and a phase ends, halving the moves by g + logits + sigma(q), only once every visit of
// the phase is back: a walk that would start the next phase while evaluations are in flight
// waits for the next round (next_child() says -1).
//
// Below the root the search stays PUCT (SearchTree::select_leaf). Torch-free; no allocation
// once its buffers have grown to the game's number of moves and simulations.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "common/mcts/mcts_config.h"
#include "common/mcts/search_tree.h"

namespace rz {

// Sequential halving as a schedule: out[k] is the visit count a considered move must have to
// take simulation k (of `simulations`), for `considered` moves. mctx's
// get_sequence_of_considered_visits, exactly.
void considered_visits(int considered, int simulations, std::vector<uint32_t>* out);

class GumbelRoot {
 public:
  // A new search of `simulations` from `tree`'s root, which must be expanded: draws g(a)
  // (zero without `noise`), considers the min(gumbel_considered, moves) moves of largest
  // g + logits and lays out the phases of sequential halving.
  void begin(const SearchTree& tree, const MctsConfig& config, int simulations, bool noise,
             std::mt19937_64& rng);
  // The root child (0-based, among the root's children) the next walk goes to, or -1 when it
  // must wait: the next phase starts there and `in_flight` walks are not back yet.
  int next_child(const SearchTree& tree, const MctsConfig& config, int in_flight);
  // The root child to play once the search is done: the most visited considered move (ties:
  // the larger g + logits + sigma(q)).
  int final_child(const SearchTree& tree, const MctsConfig& config);
  // pi'(a) = softmax(logits + sigma(completed q)), one entry per root child.
  const std::vector<float>& improved_policy(const SearchTree& tree, const MctsConfig& config);

 private:
  // sigma(completed q) of every root child into sigma_, logits into logits_.
  void transform(const SearchTree& tree, const MctsConfig& config);
  float score(int child) const { return g_[child] + logits_[child] + sigma_[child]; }
  // Sorts considered_ by score, best first (transform() first).
  void rank_considered();
  // The considered move with the fewest (or the most) visits, ties to the larger score.
  int pick_considered(const SearchTree& tree, bool most_visited) const;

  std::vector<float> g_, logits_, sigma_, policy_;
  std::vector<int> considered_;  // root children still in the running
  // Phases of sequential halving: phase p starts at simulation phase_start_[p] and keeps
  // phase_moves_[p] moves.
  std::vector<uint32_t> phase_start_, phase_moves_;
  size_t phase_ = 0;
};

}  // namespace rz
