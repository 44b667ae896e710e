#include "learner/solver_batch.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string>

namespace rz {
namespace {

// The position's stones as bytes (its observation), in orientation `sym`.
std::string position_key(const Game& game, const LabelledPosition& p, int sym) {
  std::vector<Action> history;
  std::vector<float> obs(game.observation_shape().size());
  state_from_moves(game, p.moves, &history)->observe(obs.data());
  if (sym != 0) game.apply_symmetry(sym, obs.data(), nullptr);
  return std::string(reinterpret_cast<const char*>(obs.data()), obs.size() * sizeof(float));
}

}  // namespace

SolverBatchBuilder::SolverBatchBuilder(const Game& game,
                                       const std::vector<LabelledPosition>& positions,
                                       int batch_size)
    : game_(game),
      batch_size_(batch_size),
      obs_size_(game.observation_shape().size()),
      num_actions_(game.num_actions()) {
  if (game.spec() != "connect4" || num_actions_ != Connect4Bitboard::kWidth)
    throw GameError("solver labels are Connect Four's: pick --game connect4");
  if (positions.empty()) throw GameError("no labelled positions to train on: give --train FILE");
  const size_t n = positions.size();
  observations_.assign(n * obs_size_, 0.0f);
  policies_.assign(n * num_actions_, 0.0f);
  legal_.assign(n * num_actions_, 0.0f);
  values_.assign(n, 0.0f);
  std::vector<Action> history;
  std::vector<uint8_t> mask(num_actions_);
  for (size_t i = 0; i < n; ++i) {
    const LabelledPosition& p = positions[i];
    const auto state = state_from_moves(game, p.moves, &history);
    state->observe(&observations_[i * obs_size_]);
    state->legal_mask(mask.data());
    float* pi = &policies_[i * num_actions_];
    int optimal = 0;
    for (int col = 0; col < num_actions_; ++col) {  // Connect Four's action is its column
      legal_[i * num_actions_ + col] = mask[col] ? 1.0f : 0.0f;
      const bool best = is_optimal(p.scores, col);
      if (best && !mask[col])
        throw GameError(
            fmt::format("labels of '{}' call the full column {} optimal: "
                        "delete the label cache to solve again",
                        p.moves, col + 1));
      pi[col] = best ? 1.0f : 0.0f;
      optimal += best;
    }
    if (optimal == 0)
      throw GameError(
          fmt::format("labels of '{}' have no legal column: delete the label "
                      "cache to solve again",
                      p.moves));
    for (int a = 0; a < num_actions_; ++a) pi[a] /= static_cast<float>(optimal);
    values_[i] = static_cast<float>(result_of(p.scores));
  }
}

void SolverBatchBuilder::build(std::mt19937_64& rng, Batch* b) const {
  b->size = batch_size_;
  b->observations.resize(static_cast<size_t>(batch_size_) * obs_size_);
  b->policies.resize(static_cast<size_t>(batch_size_) * num_actions_);
  b->legal.resize(static_cast<size_t>(batch_size_) * num_actions_);
  b->values.resize(batch_size_);
  std::uniform_int_distribution<size_t> pick(0, values_.size() - 1);
  std::uniform_int_distribution<int> symmetry(0, game_.num_symmetries() - 1);
  for (int i = 0; i < batch_size_; ++i) {
    const size_t k = pick(rng);
    float* o = &b->observations[static_cast<size_t>(i) * obs_size_];
    float* pi = &b->policies[static_cast<size_t>(i) * num_actions_];
    float* legal = &b->legal[static_cast<size_t>(i) * num_actions_];
    std::copy_n(&observations_[k * obs_size_], obs_size_, o);
    std::copy_n(&policies_[k * num_actions_], num_actions_, pi);
    std::copy_n(&legal_[k * num_actions_], num_actions_, legal);
    b->values[i] = values_[k];
    const int sym = symmetry(rng);
    if (sym != 0) {
      game_.apply_symmetry(sym, o, pi);
      game_.apply_symmetry(sym, nullptr, legal);
    }
  }
}

size_t drop_positions_of(const Game& game, const std::vector<LabelledPosition>& others,
                         std::vector<LabelledPosition>* train) {
  std::set<std::string> seen;
  for (const auto& p : others)
    for (int sym = 0; sym < game.num_symmetries(); ++sym) seen.insert(position_key(game, p, sym));
  const size_t before = train->size();
  train->erase(std::remove_if(train->begin(), train->end(),
                              [&](const LabelledPosition& p) {
                                return seen.count(position_key(game, p, 0)) > 0;
                              }),
               train->end());
  return before - train->size();
}

}  // namespace rz
