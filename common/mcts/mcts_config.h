// MctsConfig: every knob of the AlphaZero search and of self-play move selection, in one
// plain struct that the actor fills from its command line and checks with validate().
//
// Names follow the papers: c_puct and the Dirichlet noise (alpha, epsilon) are AlphaZero's;
// first-play urgency (fpu_reduction) is Leela Zero's; playout cap randomisation
// (full_search_prob, fast_simulations) is KataGo's; resignation with a resign-disabled
// fraction of games (resign_threshold, resign_disabled_fraction) is AlphaGo Zero's; the
// Gumbel root search (gumbel, gumbel_considered, gumbel_c_visit, gumbel_c_scale) is Gumbel
// AlphaZero's (Danihelka et al., "Policy improvement by planning with Gumbel", ICLR 2022;
// common/mcts/gumbel_root.h); random openings (random_opening_moves) are KataGo's near-uniform
// random openings (Wu, "Accelerating Self-Play Learning in Go", 2019, appendix D).
#pragma once

namespace rz {

struct MctsConfig {
  // Simulations of a full search. A search stops when the root's children have `simulations`
  // visits in total; visits inherited from the previous move's tree (reuse_tree) count.
  int simulations = 200;
  // Exploration constant of U(s,a) = c_puct * P(s,a) * sqrt(sum_b N(s,b)) / (1 + N(s,a)).
  float c_puct = 1.5f;
  // Root noise: P(s,a) <- (1 - epsilon) P(s,a) + epsilon * eta_a, eta ~ Dir(alpha).
  float dirichlet_alpha = 0.3f;
  float dirichlet_epsilon = 0.25f;  // 0 disables root noise
  // An unvisited child's Q is its parent's Q minus this (first-play urgency).
  float fpu_reduction = 0.25f;
  // Leaves collected per game per evaluation round; virtual loss keeps them apart.
  int virtual_leaves = 8;
  // The first temperature_moves moves of a game are sampled with probability proportional
  // to N(s,a)^(1/temperature); later moves take the most visited child.
  int temperature_moves = 15;
  float temperature = 1.0f;
  // Keep the chosen child's subtree as the next search's tree.
  bool reuse_tree = true;
  // Playout cap randomisation: a move gets a full search (simulations, root noise, recorded
  // as a training target) with this probability, else a fast search (fast_simulations, no
  // noise, not a target). 1 turns it off.
  float full_search_prob = 1.0f;
  int fast_simulations = 0;
  // Resign when both the root value and the best child's Q are below this (for the mover).
  // Below -1 turns resignation off.
  float resign_threshold = -2.0f;
  // Fraction of games that never resign, to count how often resigning would have been wrong.
  float resign_disabled_fraction = 0.1f;
  // Gumbel AlphaZero at the root instead of PUCT + Dirichlet noise + visit-count sampling:
  // Gumbel-top-k picks `gumbel_considered` root moves, sequential halving spends the
  // simulations on them, the move played is the survivor, and the policy target is
  // softmax(logits + sigma(completed Q)) with sigma(q) = (gumbel_c_visit + max_b N(b)) *
  // gumbel_c_scale * q (q rescaled to [0, 1]). Below the root the search is PUCT as above.
  // Each search starts from a fresh tree (sequential halving counts the root's visits).
  bool gumbel = false;
  int gumbel_considered = 16;
  float gumbel_c_visit = 50.0f;
  float gumbel_c_scale = 0.1f;
  // Random openings: each self-play game first plays k uniformly random legal moves, k drawn
  // uniformly from [0, random_opening_moves], never one that ends the game. They are not
  // searched and not training targets (recorded as full_search = false with one visit on
  // the move), so the replay holds the positions that follow them: the games that start
  // off the network's own lines. 0 turns it off.
  int random_opening_moves = 0;

  bool resignation_enabled() const { return resign_threshold >= -1.0f; }

  // Throws std::invalid_argument naming the field, its value and the allowed range.
  void validate() const;
  // validate(), then *this: for constructors' member initialisers.
  const MctsConfig& validated() const {
    validate();
    return *this;
  }
};

}  // namespace rz
