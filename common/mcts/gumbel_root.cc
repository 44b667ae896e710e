#include "common/mcts/gumbel_root.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>

namespace rz {

void considered_visits(int considered, int simulations, std::vector<uint32_t>* out) {
  out->clear();
  if (considered <= 1) {
    for (int k = 0; k < simulations; ++k) out->push_back(static_cast<uint32_t>(k));
    return;
  }
  int log2max = 0;
  while ((1 << log2max) < considered) ++log2max;  // ceil(log2(considered))
  // visits[i] of the i-th considered move; every phase gives each remaining move the same
  // extra visits, then halves the moves (never below 2).
  std::vector<uint32_t> visits(static_cast<size_t>(considered), 0);
  int remaining = considered;
  while (static_cast<int>(out->size()) < simulations) {
    const int extra = std::max(1, simulations / (log2max * remaining));
    for (int e = 0; e < extra; ++e) {
      for (int i = 0; i < remaining; ++i) out->push_back(visits[static_cast<size_t>(i)]);
      for (int i = 0; i < remaining; ++i) ++visits[static_cast<size_t>(i)];
    }
    remaining = std::max(2, remaining / 2);
  }
  out->resize(static_cast<size_t>(simulations));
}

void GumbelRoot::begin(const SearchTree& tree, const MctsConfig& config, int simulations,
                       bool noise, std::mt19937_64& rng) {
  const Node& root = tree.root();
  assert(root.status == Node::kExpanded);
  const int moves = root.num_children;
  g_.assign(static_cast<size_t>(moves), 0.0f);
  if (noise) {
    // Gumbel(0, 1) = -log(-log(U)), U uniform in (0, 1).
    std::uniform_real_distribution<double> uniform(1e-12, 1.0);
    for (float& g : g_) g = static_cast<float>(-std::log(-std::log(uniform(rng))));
  }
  considered_visits(std::min(config.gumbel_considered, moves), simulations, &schedule_);
}

void GumbelRoot::transform(const SearchTree& tree, const MctsConfig& config) {
  const Node& root = tree.root();
  const int moves = root.num_children;
  logits_.resize(static_cast<size_t>(moves));
  sigma_.resize(static_cast<size_t>(moves));
  uint32_t sum_n = 0, max_n = 0;
  double prior_visited = 0.0, weighted_q = 0.0;
  for (int b = 0; b < moves; ++b) {
    const Node& c = tree.node(root.first_child + b);
    logits_[static_cast<size_t>(b)] = std::log(std::max(c.P, 1e-30f));
    sum_n += c.N;
    max_n = std::max(max_n, c.N);
    if (c.N > 0) {
      const double p = std::max(c.P, 1e-30f);
      prior_visited += p;
      weighted_q += p * c.Q();
    }
  }
  // The mixed value: the network's value of the root averaged with the visited moves' Q
  // (weighted by prior), as if the root's value had one visit and the moves sum_n.
  const double v_mix =
      sum_n == 0 ? root.V : (root.V + sum_n * (weighted_q / prior_visited)) / (sum_n + 1.0);
  float lo = 1e30f, hi = -1e30f;
  for (int b = 0; b < moves; ++b) {
    const Node& c = tree.node(root.first_child + b);
    const float q = c.N > 0 ? c.Q() : static_cast<float>(v_mix);
    sigma_[static_cast<size_t>(b)] = q;
    lo = std::min(lo, q);
    hi = std::max(hi, q);
  }
  const float scale = (config.gumbel_c_visit + static_cast<float>(max_n)) * config.gumbel_c_scale /
                      std::max(hi - lo, 1e-8f);
  for (float& s : sigma_) s = (s - lo) * scale;
}

int GumbelRoot::best_with_visits(const SearchTree& tree, uint32_t visits) const {
  const Node& root = tree.root();
  int best = 0;
  float best_score = -1e30f;
  for (int b = 0; b < root.num_children; ++b) {
    const uint32_t n = tree.node(root.first_child + b).N;
    // A move off the schedule (a collision's visit given back can leave one) only when none
    // is on it: the nearest count then.
    const float off = static_cast<float>(n > visits ? n - visits : visits - n);
    const size_t i = static_cast<size_t>(b);
    const float score = g_[i] + std::max(logits_[i], -1e9f) + sigma_[i] - 1e6f * off;
    if (score > best_score) best = b, best_score = score;
  }
  return best;
}

int GumbelRoot::next_child(const SearchTree& tree, const MctsConfig& config) {
  const uint32_t k = tree.root_child_visits();
  assert(!schedule_.empty());
  const uint32_t visits = schedule_[std::min<size_t>(k, schedule_.size() - 1)];
  transform(tree, config);
  return best_with_visits(tree, visits);
}

int GumbelRoot::final_child(const SearchTree& tree, const MctsConfig& config) {
  const Node& root = tree.root();
  uint32_t max_n = 0;
  for (int b = 0; b < root.num_children; ++b)
    max_n = std::max(max_n, tree.node(root.first_child + b).N);
  transform(tree, config);
  return best_with_visits(tree, max_n);
}

const std::vector<float>& GumbelRoot::improved_policy(const SearchTree& tree,
                                                      const MctsConfig& config) {
  transform(tree, config);
  const size_t moves = logits_.size();
  policy_.resize(moves);
  float top = -1e30f;
  for (size_t i = 0; i < moves; ++i) top = std::max(top, logits_[i] + sigma_[i]);
  double total = 0.0;
  for (size_t i = 0; i < moves; ++i) {
    policy_[i] = std::exp(logits_[i] + sigma_[i] - top);
    total += policy_[i];
  }
  for (float& p : policy_) p = static_cast<float>(p / total);
  return policy_;
}

}  // namespace rz
