#include "learner/trainer.h"

#include <torch/torch.h>

#include <stdexcept>

#include "common/net/net_evaluator.h"

namespace rz {
namespace {

// learner.device (auto | cpu | cuda | cuda:N, validated by the config) to a device, with the
// line the learner logs about the choice. A CUDA device that cannot be used is an error, never
// a silent fall-back to the CPU: a run that asked for the GPU must not train on the CPU.
torch::Device choose_device(const LearnerConfig& cfg, std::string* why) {
  if (cfg.device == "cpu") {
    *why = "learner.device=cpu: training on the CPU";
    return torch::kCPU;
  }
  const bool available = torch::cuda::is_available();
  // Tells "this build has no CUDA" (RZ_TORCH_HAS_CUDA: cmake/ringzero_torch.cmake) from "no
  // GPU or driver on this machine".
  const std::string reason =
      !RZ_TORCH_HAS_CUDA
          ? "this build's LibTorch has no CUDA (build build-cuda/ with launch/setup_cuda.sh)"
          : "no usable GPU or driver on this machine (torch::cuda::is_available() is false)";
  if (cfg.device == "auto") {
    *why = available ? "learner.device=auto: CUDA is available, training on cuda:0"
                     : "learner.device=auto: " + reason + ", training on the CPU";
    return available ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  }
  // "cuda" or "cuda:N".
  const int index = cfg.device == "cuda" ? 0 : std::stoi(cfg.device.substr(5));
  if (!available)
    throw std::runtime_error("learner.device=" + cfg.device + " but " + reason +
                             "; run on a machine with an NVIDIA GPU and driver, or set "
                             "learner.device=cpu or auto");
  const int count = static_cast<int>(torch::cuda::device_count());
  if (index >= count)
    throw std::runtime_error("learner.device=" + cfg.device + " but this machine has " +
                             std::to_string(count) +
                             " CUDA device(s); use cuda:0 to cuda:" + std::to_string(count - 1));
  *why = "learner.device=" + cfg.device + ": training on cuda:" + std::to_string(index);
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace

Trainer::Trainer(const Game& game, const RunConfig& config, uint64_t seed)
    : game_(game),
      net_config_(config.net),
      device_(choose_device(config.learner, &device_choice_)) {
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
  torch::Tensor pi =
      torch::from_blob(const_cast<float*>(b.policies.data()), {n, a}, cpu).to(device_);
  torch::Tensor legal =
      torch::from_blob(const_cast<float*>(b.legal.data()), {n, a}, cpu).to(device_);
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

std::vector<uint8_t> Trainer::weights_blob() {
  return network_to_blob(net_);
}

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
