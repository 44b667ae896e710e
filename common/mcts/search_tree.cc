#include "common/mcts/search_tree.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/mcts/mcts_config.h"

namespace rz {
namespace {

#ifndef NDEBUG
[[noreturn]] void invariant_failed(const std::string& what) {
  std::fprintf(stderr, "SearchTree invariant violated: %s\n", what.c_str());
  std::abort();
}
#endif

}  // namespace

void SearchTree::clear() {
  nodes_.clear();
  nodes_.emplace_back();
}

void SearchTree::reserve(size_t nodes) {
  nodes_.reserve(nodes);
  new_index_.reserve(nodes);
}

size_t SearchTree::arena_bytes() const {
  return nodes_.capacity() * sizeof(Node) + new_index_.capacity() * sizeof(int32_t);
}

void SearchTree::select_leaf(const MctsConfig& config, std::vector<int32_t>* path,
                             int root_child) {
  path->clear();
  int32_t s = kRoot;
  path->push_back(s);
  if (root_child >= 0 && nodes_[s].status == Node::kExpanded) {
    assert(root_child < nodes_[s].num_children);
    s = nodes_[s].first_child + root_child;
    path->push_back(s);
  }
  while (nodes_[s].status == Node::kExpanded) {
    const Node& parent = nodes_[s];
    const Node* children = &nodes_[parent.first_child];
    // sum_b N(s,b) and the parent's own mean value Q(s) for its player to move, which is also
    // the chooser of every child edge (W of a child is kept for exactly that player).
    uint32_t sum_n = 0;
    float sum_w = 0.0f;
    for (int b = 0; b < parent.num_children; ++b) {
      sum_n += children[b].N;
      sum_w += children[b].W;
    }
    const float parent_q = (parent.V + sum_w) / static_cast<float>(1 + sum_n);
    const float fpu_q = parent_q - config.fpu_reduction;
    const float c_sqrt = config.c_puct * std::sqrt(static_cast<float>(sum_n));
    int best = 0;
    float best_score = -1e30f;
    for (int b = 0; b < parent.num_children; ++b) {
      const Node& c = children[b];
      const float q = c.N > 0 ? c.Q() : fpu_q;
      const float u = c_sqrt * c.P / static_cast<float>(1 + c.N);
      const float score = q + u;
      if (score > best_score || (score == best_score && c.P > children[best].P)) {
        best = b;
        best_score = score;
      }
    }
    s = parent.first_child + best;
    path->push_back(s);
  }
  apply_virtual_loss(path->data(), static_cast<int>(path->size()));
}

void SearchTree::apply_virtual_loss(const int32_t* path, int length) {
  nodes_[path[0]].N += 1;
  for (int i = 1; i < length; ++i) {
    Node& n = nodes_[path[i]];
    n.N += 1;
    n.W -= 1.0f;
  }
}

void SearchTree::revert_virtual_loss(const int32_t* path, int length) {
  nodes_[path[0]].N -= 1;
  for (int i = 1; i < length; ++i) {
    Node& n = nodes_[path[i]];
    n.N -= 1;
    n.W += 1.0f;
  }
}

void SearchTree::backup(const int32_t* path, int length, int viewpoint, float value) {
  for (int i = 1; i < length; ++i) {
    const int chooser = nodes_[path[i - 1]].player;
    assert(chooser == 0 || chooser == 1);
    Node& n = nodes_[path[i]];
    // +1 undoes the virtual loss; the value is the leaf's, seen by this edge's chooser.
    n.W += 1.0f + (chooser == viewpoint ? value : -value);
  }
}

void SearchTree::expand(int32_t i, int player, const uint8_t* legal, const float* policy,
                        int num_actions, float value) {
  assert(nodes_[i].status == Node::kUnexpanded || nodes_[i].status == Node::kPending);
  int count = 0;
  float sum = 0.0f;
  for (int a = 0; a < num_actions; ++a) {
    if (!legal[a]) continue;
    ++count;
    sum += policy[a];
  }
  assert(count > 0 && count <= kMaxActions);
#ifndef NDEBUG
  // The Evaluator contract: a value in [-1, 1]; priors summing to 1 over the legal moves, 0 on
  // illegal ones.
  if (!(value >= -1.0f && value <= 1.0f))
    invariant_failed(fmt::format("evaluator value {} is outside [-1, 1]", value));
  if (std::fabs(sum - 1.0f) > 1e-3f)
    invariant_failed(fmt::format("evaluator priors over the legal moves sum to {}", sum));
  for (int a = 0; a < num_actions; ++a)
    if (!legal[a] && policy[a] > 1e-6f)
      invariant_failed(fmt::format("evaluator gave illegal action {} prior {}", a, policy[a]));
#endif
  // The evaluator promises priors summing to 1 over legal moves; renormalising only removes
  // float rounding, and a degenerate all-zero policy falls back to uniform.
  const bool uniform = !(sum > 0.0f);
  const float scale = uniform ? 0.0f : 1.0f / sum;
  const int32_t first = static_cast<int32_t>(nodes_.size());
  for (int a = 0; a < num_actions; ++a) {
    if (!legal[a]) continue;
    Node c;
    c.action = static_cast<uint16_t>(a);
    c.P = uniform ? 1.0f / static_cast<float>(count) : policy[a] * scale;
    nodes_.push_back(c);
  }
  Node& n = nodes_[i];  // after the push_backs: they may have moved the arena
  n.first_child = first;
  n.num_children = static_cast<uint16_t>(count);
  n.player = static_cast<uint16_t>(player);
  n.V = value;
  n.status = Node::kExpanded;
}

void SearchTree::set_terminal(int32_t i, float return_for_player0) {
  Node& n = nodes_[i];
  n.status = Node::kTerminal;
  n.player = 0;
  n.V = return_for_player0;
}

void SearchTree::add_dirichlet_noise(float alpha, float epsilon, std::mt19937_64& rng) {
  Node& r = nodes_[kRoot];
  if (r.status != Node::kExpanded || epsilon <= 0.0f) return;
  // eta ~ Dir(alpha), drawn as Gamma(alpha, 1) variables divided by their sum.
  std::gamma_distribution<float> gamma(alpha, 1.0f);
  eta_.resize(r.num_children);
  float sum = 0.0f;
  for (float& e : eta_) sum += (e = gamma(rng));
  // All draws can underflow to 0 for tiny alpha; then the noise is one uniformly chosen move.
  if (!(sum > 0.0f)) {
    std::fill(eta_.begin(), eta_.end(), 0.0f);
    eta_[std::uniform_int_distribution<size_t>(0, eta_.size() - 1)(rng)] = 1.0f;
    sum = 1.0f;
  }
  Node* children = &nodes_[r.first_child];
  for (int b = 0; b < r.num_children; ++b)
    children[b].P = (1.0f - epsilon) * children[b].P + epsilon * eta_[b] / sum;
}

void SearchTree::reroot(Action action) {
  const Node& r = nodes_[kRoot];
  int32_t kept = -1;
  for (int b = 0; b < r.num_children; ++b)
    if (nodes_[r.first_child + b].action == action) kept = r.first_child + b;
  if (kept < 0 || nodes_[kept].N == 0) {
    clear();
    return;
  }
  // Children always come after their parent in the arena, so one forward sweep finds the
  // whole subtree, numbering its nodes in arena order as it goes.
  const int32_t size = static_cast<int32_t>(nodes_.size());
  new_index_.assign(nodes_.size(), -1);
  new_index_[kept] = 0;
  int32_t next = 0;
  for (int32_t i = kept; i < size; ++i) {
    if (new_index_[i] < 0) continue;
    new_index_[i] = next++;
    const Node& n = nodes_[i];
    for (int b = 0; b < n.num_children; ++b) new_index_[n.first_child + b] = 0;  // kept
  }
  // A kept node's new index is never above its old one, so moving them down in arena order
  // overwrites only nodes already moved or dropped.
  for (int32_t i = kept; i < size; ++i) {
    if (new_index_[i] < 0) continue;
    Node n = nodes_[i];
    if (n.num_children > 0) n.first_child = new_index_[n.first_child];
    nodes_[new_index_[i]] = n;
  }
  nodes_.resize(static_cast<size_t>(next));
  nodes_[kRoot].P = 1.0f;
  nodes_[kRoot].W = 0.0f;  // the root has no edge; only N and V mean something there
}

uint32_t SearchTree::root_child_visits() const {
  const Node& r = nodes_[kRoot];
  uint32_t sum = 0;
  for (int b = 0; b < r.num_children; ++b) sum += nodes_[r.first_child + b].N;
  return sum;
}

float SearchTree::root_value() const {
  const Node& r = nodes_[kRoot];
  if (r.status == Node::kTerminal) return r.player == 0 ? r.V : -r.V;
  if (r.status != Node::kExpanded) return 0.0f;
  uint32_t sum_n = 0;
  float sum_w = 0.0f;
  for (int b = 0; b < r.num_children; ++b) {
    sum_n += nodes_[r.first_child + b].N;
    sum_w += nodes_[r.first_child + b].W;
  }
  return (r.V + sum_w) / static_cast<float>(1 + sum_n);
}

int32_t SearchTree::most_visited_child() const {
  const Node& r = nodes_[kRoot];
  int32_t best = -1;
  for (int b = 0; b < r.num_children; ++b) {
    const int32_t c = r.first_child + b;
    if (best < 0 || nodes_[c].N > nodes_[best].N ||
        (nodes_[c].N == nodes_[best].N && nodes_[c].P > nodes_[best].P))
      best = c;
  }
  return best;
}

void SearchTree::check_invariants() const {
#ifndef NDEBUG
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.status != Node::kExpanded) {
      if (n.num_children != 0) invariant_failed(fmt::format("unexpanded node {} has children", i));
      continue;
    }
    if (n.num_children == 0) invariant_failed(fmt::format("expanded node {} has no children", i));
    if (n.first_child <= static_cast<int32_t>(i) ||
        static_cast<size_t>(n.first_child) + n.num_children > nodes_.size())
      invariant_failed(fmt::format("node {} has children outside the arena", i));
    uint64_t sum_n = 0;
    double sum_p = 0.0;
    for (int b = 0; b < n.num_children; ++b) {
      sum_n += nodes_[n.first_child + b].N;
      sum_p += nodes_[n.first_child + b].P;
    }
    if (n.N != 1 + sum_n)
      invariant_failed(
          fmt::format("node {}: N={} but 1 + sum of children's N = {}", i, n.N, 1 + sum_n));
    if (std::fabs(sum_p - 1.0) > 1e-3)
      invariant_failed(fmt::format("node {}: children's priors sum to {}", i, sum_p));
  }
#endif
}

}  // namespace rz
