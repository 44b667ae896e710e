#include "common/mcts/gumbel_root.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>

namespace rz {

namespace {

// mctx's get_sequence_of_considered_visits into *schedule (when given), and where each phase
// starts and how many moves it keeps (consecutive phases of 2 moves are one phase here:
// halving 2 keeps 2). Without a schedule it allocates nothing once the phase vectors have grown.
void halving_schedule(int considered, int simulations, std::vector<uint32_t>* schedule,
                      std::vector<uint32_t>* phase_start, std::vector<uint32_t>* phase_moves) {
  if (schedule) schedule->clear();
  phase_start->clear();
  phase_moves->clear();
  if (considered <= 1) {
    if (schedule)
      for (int k = 0; k < simulations; ++k) schedule->push_back(static_cast<uint32_t>(k));
    phase_start->push_back(0);
    phase_moves->push_back(1);
    return;
  }
  int log2max = 0;
  while ((1 << log2max) < considered) ++log2max;  // ceil(log2(considered))
  // Every phase gives each remaining move the same extra visits, then halves the moves (never
  // below 2); `visits` is what each of the first `remaining` moves has had so far.
  int produced = 0, remaining = considered;
  uint32_t visits = 0;
  while (produced < simulations) {
    if (phase_moves->empty() || phase_moves->back() != static_cast<uint32_t>(remaining)) {
      phase_start->push_back(static_cast<uint32_t>(produced));
      phase_moves->push_back(static_cast<uint32_t>(remaining));
    }
    const int extra = std::max(1, simulations / (log2max * remaining));
    for (int e = 0; e < extra; ++e, ++visits) {
      if (schedule) schedule->insert(schedule->end(), static_cast<size_t>(remaining), visits);
      produced += remaining;
    }
    remaining = std::max(2, remaining / 2);
  }
  if (schedule) schedule->resize(static_cast<size_t>(simulations));
}

}  // namespace

void considered_visits(int considered, int simulations, std::vector<uint32_t>* out) {
  std::vector<uint32_t> phase_start, phase_moves;
  halving_schedule(considered, simulations, out, &phase_start, &phase_moves);
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
  const int m = std::min(config.gumbel_considered, moves);
  halving_schedule(m, simulations, nullptr, &phase_start_, &phase_moves_);
  phase_ = 0;
  // Gumbel-top-k: unvisited moves all have the same completed q, so g + logits ranks them.
  transform(tree, config);
  considered_.resize(static_cast<size_t>(moves));
  for (int b = 0; b < moves; ++b) considered_[static_cast<size_t>(b)] = b;
  rank_considered();
  considered_.resize(static_cast<size_t>(m));
}

void GumbelRoot::rank_considered() {
  std::stable_sort(considered_.begin(), considered_.end(),
                   [&](int a, int b) { return score(a) > score(b); });
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

int GumbelRoot::next_child(const SearchTree& tree, const MctsConfig& config, int in_flight) {
  const uint32_t k = tree.root_child_visits();  // visits in flight included
  transform(tree, config);
  while (phase_ + 1 < phase_start_.size() && k >= phase_start_[phase_ + 1]) {
    if (in_flight > 0) return -1;  // halve on every visit's value, not on virtual losses
    ++phase_;
    rank_considered();
    considered_.resize(std::min<size_t>(considered_.size(), phase_moves_[phase_]));
  }
  // The fewest visits first (the schedule's order; a move a given-back visit left behind
  // catches up), ties to the better score.
  return pick_considered(tree, /*most_visited=*/false);
}

int GumbelRoot::pick_considered(const SearchTree& tree, bool most_visited) const {
  const int32_t first = tree.root().first_child;
  int best = considered_.front();
  uint32_t best_n = tree.node(first + best).N;
  for (int c : considered_) {
    const uint32_t n = tree.node(first + c).N;
    const bool better_n = most_visited ? n > best_n : n < best_n;
    if (better_n || (n == best_n && score(c) > score(best))) best = c, best_n = n;
  }
  return best;
}

int GumbelRoot::final_child(const SearchTree& tree, const MctsConfig& config) {
  transform(tree, config);
  return pick_considered(tree, /*most_visited=*/true);
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
