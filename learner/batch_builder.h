// BatchBuilder: turns uniform samples of the replay window into a training minibatch.
//
// A sample is one full-search position of a stored game. Its observation is rebuilt by
// replaying the game's actions from the initial state (a few dozen apply() calls, far cheaper
// than storing observations), its policy target is the root visit distribution normalised to
// sum 1, its value target the game's final outcome z for the player to move there, or, with
// a weight w > 0 (learner.value_target_q), (1 - w) z + w q, q the search's root value recorded
// for that move (a less noisy target than z alone: Oracle's "Lessons from AlphaZero" part 4,
// for Connect Four). A random
// board symmetry (Game::apply_symmetry) is applied to observation, policy and legal mask
// together, so one stored position yields up to num_symmetries() distinct samples.
//
// Torch-free: the learner hands the filled float arrays to LibTorch without copying.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "common/game.h"
#include "learner/replay_window.h"

namespace rz {

struct Batch {
  int size = 0;
  std::vector<float> observations;  // size x observation_shape().size()
  std::vector<float> policies;      // size x num_actions, each row sums to 1
  std::vector<float> legal;         // size x num_actions, 1 = legal
  std::vector<float> values;        // size, value target for the mover in [-1, 1]
};

class BatchBuilder {
 public:
  // value_target_q: w above, in [0, 1].
  BatchBuilder(const Game& game, int batch_size, float value_target_q = 0.0f);
  // Samples batch_size target positions uniformly (with replacement) from `window`, which
  // must hold at least one. Records in the window were validated on insertion; one that no
  // longer decodes (a damaged byte in the region) is skipped, counted and another sample
  // drawn: one bad entry must not stop training, nor crash-loop a learner that would meet it
  // again after every restart. Only a window where kMaxMisses samples in a row fail throws
  // ReplayError. Running out of memory while decoding propagates std::bad_alloc: that is the
  // machine's problem, not the entry's.
  void build(const ReplayWindow& window, std::mt19937_64& rng, Batch* batch);
  // Samples skipped because their entry no longer decodes, over this builder's life.
  uint64_t undecodable_skipped() const { return undecodable_skipped_; }
  static constexpr int kMaxMisses = 1000;

 private:
  const Game& game_;
  int batch_size_;
  float value_target_q_;
  std::vector<uint8_t> mask_;
  uint64_t undecodable_skipped_ = 0;
};

}  // namespace rz
