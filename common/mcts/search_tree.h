// SearchTree: the AlphaZero search tree of one game, in a pooled arena.
//
// Every node is one edge (s,a) of the paper together with the position it leads to. Nodes
// live in one std::vector<Node> per tree and a node's children are one contiguous index range
// of it, so a tree costs no heap allocation per node and a search walks memory in order.
// Positions are NOT stored: whoever needs a leaf's State clones the root state and applies
// the actions along the path (see GameSearch), which costs far less than an evaluation.
//
// Values and players. W(s,a) and Q(s,a) = W/N are kept for the player who chose a, i.e. the
// player to move at the parent. Turns need not alternate (in Dots and Boxes completing a box
// gives the same player another move), so a leaf's value v, known for one player (the
// "viewpoint"), is backed up into each edge as v if that edge's chooser is the viewpoint
// player and as -v otherwise (two-player zero-sum). Nothing is ever negated per ply.
//
// Virtual loss. Selection adds one visit and one loss (W -= 1) on every edge of the path, so
// the next selection in the same round prefers other leaves; backup removes the loss and
// adds the real value. N therefore counts visits in flight too, and for every expanded node
// N = 1 + sum of its children's N at all times (its first visit was its own evaluation).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "common/game.h"

namespace rz {

struct MctsConfig;

struct Node {
  enum Status : uint16_t {
    kUnexpanded,  // never evaluated
    kPending,     // selected as a leaf, its evaluation is in flight
    kExpanded,    // evaluated; children exist
    kTerminal,    // game over here; V holds the exact outcome
  };

  Node() : num_children(0), status(kUnexpanded), player(0) {}

  float P = 0.0f;  // prior P(s,a) of the move into this node
  float W = 0.0f;  // total value W(s,a), for the player who chose the move into this node
  uint32_t N = 0;  // visit count N(s,a), visits in flight included
  // This position's own value for `player`: the evaluator's value (expanded) or, for a
  // terminal node, the exact outcome State::returns(player) with player = 0.
  float V = 0.0f;
  int32_t first_child = -1;  // children are nodes [first_child, first_child + num_children)
  uint16_t action = 0;       // the move into this node
  // Packed into 16 bits so that a node is 24 bytes.
  uint16_t num_children : 13;
  uint16_t status : 2;  // a Status
  uint16_t player : 1;  // player to move here (expanded), or 0 (terminal: V's viewpoint)

  float Q() const { return W / static_cast<float>(N); }  // only for N > 0
};

class SearchTree {
 public:
  // The most actions a game may have (Node::num_children has 13 bits).
  static constexpr int kMaxActions = 8191;

  SearchTree() { clear(); }

  // Back to a single unexpanded root; keeps the arena's capacity.
  void clear();
  void reserve(size_t nodes);

  static constexpr int32_t kRoot = 0;
  Node& node(int32_t i) { return nodes_[static_cast<size_t>(i)]; }
  const Node& node(int32_t i) const { return nodes_[static_cast<size_t>(i)]; }
  const Node& root() const { return nodes_[kRoot]; }
  size_t size() const { return nodes_.size(); }
  // Heap bytes held by the tree (arena and reroot scratch; capacity, not size).
  size_t arena_bytes() const;

  // PUCT selection: from the root, repeatedly take the child maximising Q + U with
  //   U(s,a) = c_puct * P(s,a) * sqrt(sum_b N(s,b)) / (1 + N(s,a))
  // and, for unvisited children, Q = Q(parent) - fpu_reduction (first-play urgency). Ties go
  // to the higher prior. Stops at the first node that is not expanded and writes the path
  // (root first) to *path, then applies a virtual loss along it. The caller looks at the
  // last node's status: kUnexpanded -> evaluate it; kTerminal -> back up V now; kPending ->
  // a collision with a leaf in flight: call revert_virtual_loss. `root_child` >= 0 takes that
  // root child (0-based) as the first step instead (a Gumbel root: gumbel_root.h).
  void select_leaf(const MctsConfig& config, std::vector<int32_t>* path, int root_child = -1);

  // One visit and one loss for the chooser on every edge of the path (the root has no edge;
  // it gets only the visit).
  void apply_virtual_loss(const int32_t* path, int length);
  void revert_virtual_loss(const int32_t* path, int length);
  // Backs up `value`, the leaf's value for player `viewpoint`, along a path that carries a
  // virtual loss: each edge (parent -> child) gets W += 1 + (value if parent's player is the
  // viewpoint, else -value); N is already counted.
  void backup(const int32_t* path, int length, int viewpoint, float value);

  // Makes node i an expanded node for `player` with one child per legal action, priors
  // taken from policy[action] (renormalised over the legal actions; uniform if they sum to
  // zero), and its own value V = value (for `player`).
  void expand(int32_t i, int player, const uint8_t* legal, const float* policy, int num_actions,
              float value);
  // Makes node i terminal with the exact outcome for player 0.
  void set_terminal(int32_t i, float return_for_player0);

  // P(s,a) <- (1 - epsilon) P(s,a) + epsilon * eta_a, eta ~ Dir(alpha), at the root.
  void add_dirichlet_noise(float alpha, float epsilon, std::mt19937_64& rng);

  // Makes the root's child for `action` the new root, keeping its subtree: the kept nodes
  // slide down to the front of the arena in their old order (so sibling ranges stay
  // contiguous), in place, O(arena), no allocation once warm. If that child was never
  // visited the tree becomes a single unexpanded root.
  void reroot(Action action);

  // sum_b N(root, b): completed and in-flight simulations below the root.
  uint32_t root_child_visits() const;
  // The root's mean value for its player to move: (V + sum_b W(root,b)) / N(root).
  float root_value() const;
  // Index of the most visited root child (ties: higher prior), -1 if the root has none.
  int32_t most_visited_child() const;

  // Debug check of the whole tree (visit counts add up, priors sum to 1); aborts with a
  // message on failure. Compiled to nothing with NDEBUG.
  void check_invariants() const;

 private:
  std::vector<Node> nodes_;
  std::vector<int32_t> new_index_;  // reroot() scratch: a kept node's index after the move
  std::vector<float> eta_;          // scratch for the Dirichlet draws
};

}  // namespace rz
