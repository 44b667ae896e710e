// Trainer: the network, its optimiser and the device; one AlphaZero training step at a time.
//
// Loss (Silver et al. 2017): l = (z - v)^2 - pi^T log p  (+ c ||theta||^2 via weight decay)
//   - policy: cross-entropy against the normalised root visit distribution pi; illegal
//     actions are masked out of the log-softmax, so the network is not taught to spend
//     probability on moves it can never play;
//   - value: squared error against the final outcome z for the player to move;
//   - L2: SgdMomentum's weight decay.
//
// Device: learner.device "cuda" or "cuda:N" (an error at construction when that GPU cannot be
// used: never a silent fall-back), "auto" (cuda:0 when torch::cuda::is_available(), else the
// CPU) or "cpu"; on the CPU with learner.threads intra-op threads. This is the only code of the
// project that may touch CUDA (actors are fork/exec'd before it runs, in other processes).
//
// THIS HEADER INCLUDES LIBTORCH: learner only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/game.h"
#include "common/net/network.h"
#include "common/run_config.h"
#include "learner/batch_builder.h"
#include "learner/sgd.h"

namespace rz {

struct StepLosses {
  double total = 0, policy = 0, value = 0;
};

class Trainer {
 public:
  // A fresh network (torch::manual_seed(seed) first, so a run is reproducible). Throws
  // std::runtime_error (one line) if learner.device=cuda and CUDA is unavailable.
  Trainer(const Game& game, const RunConfig& config, uint64_t seed);

  StepLosses train_step(const Batch& batch, double lr);

  // The weight blob (what the WeightSlot and checkpoints carry).
  std::vector<uint8_t> weights_blob();
  uint64_t layout_tag() const { return layout_tag_; }
  // Restores weights and optimiser state (checkpoint resume). Throws one-line errors on a
  // mismatch before changing anything it cannot undo: the caller exits on failure.
  void load(const std::vector<uint8_t>& weights, const std::vector<uint8_t>& optimizer_state);
  std::vector<uint8_t> optimizer_state() const { return sgd_->save_state(); }

  std::string device_name() const { return device_.str(); }
  // One line saying which device learner.device picked and why (the learner logs it).
  const std::string& device_choice() const { return device_choice_; }
  bool on_cuda() const { return device_.is_cuda(); }

 private:
  const Game& game_;
  NetConfig net_config_;
  std::string device_choice_;  // before device_: choose_device() fills it
  torch::Device device_;
  PolicyValueNet net_{nullptr};
  std::unique_ptr<SgdMomentum> sgd_;
  uint64_t layout_tag_ = 0;
};

}  // namespace rz
