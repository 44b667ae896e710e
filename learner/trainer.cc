#include "learner/trainer.h"

#include <torch/torch.h>

#include <stdexcept>

#include "common/net/net_evaluator.h"

namespace rz {
namespace {

torch::Device choose_device(const LearnerConfig& cfg) {
  if (cfg.device == "cpu") return torch::kCPU;
  bool cuda = torch::cuda::is_available();
  if (cfg.device == "cuda" && !cuda)
    throw std::runtime_error(
        "learner.device=cuda but no CUDA device is available; use learner.device=auto or cpu");
  return cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

}  // namespace

Trainer::Trainer(const Game& game, const RunConfig& config, uint64_t seed)
    : game_(game), net_config_(config.net), device_(choose_device(config.learner)) {
  if (!device_.is_cuda()) set_cpu_threads(config.learner.threads);
  torch::manual_seed(seed);
  net_ = make_network(game, config.net);
  net_->to(device_);
  net_->train();
  layout_tag_ = net_->layout_tag();
  sgd_ = std::make_unique<SgdMomentum>(net_->parameters(), config.learner.momentum,
                                       config.learner.weight_decay);
}

StepLosses Trainer::train_step(const Batch& b, double lr) {
  const ObservationShape shape = game_.observation_shape();
  const int64_t n = b.size, a = game_.num_actions();
  auto cpu = torch::TensorOptions().dtype(torch::kFloat32);
  // from_blob does not copy; .to(device_) copies (or is a no-op on CPU, where the batch
  // outlives this step anyway).
  torch::Tensor x = torch::from_blob(const_cast<float*>(b.observations.data()),
                                     {n, shape.planes, shape.height, shape.width}, cpu)
                        .to(device_);
  torch::Tensor pi = torch::from_blob(const_cast<float*>(b.policies.data()), {n, a}, cpu).to(device_);
  torch::Tensor legal = torch::from_blob(const_cast<float*>(b.legal.data()), {n, a}, cpu).to(device_);
  torch::Tensor z = torch::from_blob(const_cast<float*>(b.values.data()), {n}, cpu).to(device_);

  sgd_->zero_grad();
  auto [logits, v] = net_->forward(x);
  // A large negative constant rather than -inf: 0 * -inf would be NaN in pi * log p.
  torch::Tensor masked = logits.masked_fill(legal.eq(0), -1e9f);
  torch::Tensor log_p = torch::log_softmax(masked, /*dim=*/1);
  torch::Tensor policy_loss = -(pi * log_p).sum(1).mean();
  torch::Tensor value_loss = (v - z).pow(2).mean();
  torch::Tensor loss = policy_loss + value_loss;
  loss.backward();
  sgd_->step(lr);
  return {loss.item<double>(), policy_loss.item<double>(), value_loss.item<double>()};
}

std::vector<uint8_t> Trainer::weights_blob() { return network_to_blob(net_); }

void Trainer::load(const std::vector<uint8_t>& weights,
                   const std::vector<uint8_t>& optimizer_state) {
  // Optimiser first into a scratch copy would need a second network; instead check the
  // optimiser state on a throwaway optimiser, then load the weights (which validates the whole
  // blob before copying), then the real optimiser state.
  SgdMomentum probe(net_->parameters(), 0, 0);
  probe.load_state(optimizer_state.data(), optimizer_state.size());
  network_from_blob(net_, weights.data(), weights.size(), layout_tag_);
  sgd_->load_state(optimizer_state.data(), optimizer_state.size());
}

}  // namespace rz
