#include "learner/batch_builder.h"

#include <algorithm>
#include <string>

#include "learner/record_decode.h"

namespace rz {

BatchBuilder::BatchBuilder(const Game& game, int batch_size, float value_target_q)
    : game_(game),
      batch_size_(batch_size),
      value_target_q_(value_target_q),
      mask_(game.num_actions()) {}

void BatchBuilder::build(const ReplayWindow& window, std::mt19937_64& rng, Batch* b) {
  const int obs = game_.observation_shape().size();
  const int na = game_.num_actions();
  b->size = batch_size_;
  b->observations.assign(static_cast<size_t>(batch_size_) * obs, 0.0f);
  b->policies.assign(static_cast<size_t>(batch_size_) * na, 0.0f);
  b->legal.assign(static_cast<size_t>(batch_size_) * na, 0.0f);
  b->values.assign(batch_size_, 0.0f);
  std::uniform_int_distribution<uint64_t> pick(0, window.targets() - 1);
  std::uniform_int_distribution<int> symmetry(0, game_.num_symmetries() - 1);
  FinishedGame record;
  std::string error;
  int misses = 0;
  for (int i = 0; i < batch_size_;) {
    ReplayWindow::Sample s = window.target(pick(rng));
    if (!decode_record(game_, s.record, s.size, &record, &error) ||
        s.position >= record.positions.size()) {
      ++undecodable_skipped_;
      if (++misses >= kMaxMisses)
        throw ReplayError("the last " + std::to_string(misses) + " replay window entries " +
                          "sampled no longer decode (" + error + "); the learner region is " +
                          "damaged: stop the run and start it again with --resume");
      continue;
    }
    misses = 0;
    std::unique_ptr<State> state = game_.new_initial_state();
    for (uint32_t m = 0; m < s.position; ++m) state->apply(record.positions[m].action);
    const PositionRecord& p = record.positions[s.position];

    float* o = &b->observations[static_cast<size_t>(i) * obs];
    float* pi = &b->policies[static_cast<size_t>(i) * na];
    float* legal = &b->legal[static_cast<size_t>(i) * na];
    state->observe(o);
    double total = 0;
    for (const auto& [action, n] : p.visits) total += n;
    for (const auto& [action, n] : p.visits) pi[action] = static_cast<float>(n / total);
    state->legal_mask(mask_.data());
    for (int a = 0; a < na; ++a) legal[a] = mask_[a] ? 1.0f : 0.0f;
    const float z = record.returns[state->current_player()];
    b->values[i] = value_target_q_ == 0.0f ? z
                                           : (1.0f - value_target_q_) * z +
                                                 value_target_q_ * p.root_value;  // p.player moves
    int sym = symmetry(rng);
    if (sym != 0) {
      game_.apply_symmetry(sym, o, pi);
      game_.apply_symmetry(sym, nullptr, legal);
    }
    ++i;
  }
}

}  // namespace rz
