// The AlphaZero policy/value network (Silver et al. 2017, "Mastering the game of Go without
// human knowledge", methods), sized by NetConfig:
//
//   input   the game's observation planes [B, planes, height, width], mover's point of view
//   stem    conv3x3(filters) -> BN -> ReLU
//   tower   `blocks` residual blocks: conv3x3 -> BN -> ReLU -> conv3x3 -> BN -> +skip -> ReLU
//   policy  conv1x1(2) -> BN -> ReLU -> FC(num_actions)           logits over ALL actions
//   value   conv1x1(1) -> BN -> ReLU -> FC(64) -> ReLU -> FC(1) -> tanh
//
// Policy logits cover every action; illegal ones are masked before the softmax by the
// evaluator (common/net/net_evaluator.h) and by the learner's loss, not by the network.
//
// THIS HEADER INCLUDES LIBTORCH: only common/net/ and the learner may include it. Everyone
// else uses the torch-free NetEvaluator and weight_blob.h.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/game.h"
#include "common/net/net_config.h"
#include "common/net/weight_blob.h"

namespace rz {

// Name of this architecture inside weight blobs; change it whenever the layers change so
// that old blobs are refused instead of loaded into the wrong places.
constexpr const char* kNetworkArchitecture = "rz-resnet-v1";

class ResidualBlockImpl : public torch::nn::Module {
 public:
  explicit ResidualBlockImpl(int filters);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
};
TORCH_MODULE(ResidualBlock);

class PolicyValueNetImpl : public torch::nn::Module {
 public:
  PolicyValueNetImpl(const Game& game, const NetConfig& config);

  // x: [B, planes, height, width] float. Returns {policy logits [B, num_actions],
  // value [B] in (-1, 1) for the player to move}.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);

  const std::string& game_spec() const { return game_spec_; }
  const NetConfig& config() const { return config_; }
  ObservationShape observation_shape() const { return obs_; }
  int num_actions() const { return num_actions_; }
  // See weight_blob.h; computed once from the registered parameters and buffers.
  uint64_t layout_tag() const { return layout_tag_; }
  // "connect4 4x64".
  std::string description() const;

 private:
  std::string game_spec_;
  NetConfig config_;
  ObservationShape obs_;
  int num_actions_;
  uint64_t layout_tag_ = 0;

  torch::nn::Conv2d stem_conv{nullptr};
  torch::nn::BatchNorm2d stem_bn{nullptr};
  std::vector<ResidualBlock> blocks_;
  torch::nn::Conv2d policy_conv{nullptr};
  torch::nn::BatchNorm2d policy_bn{nullptr};
  torch::nn::Linear policy_fc{nullptr};
  torch::nn::Conv2d value_conv{nullptr};
  torch::nn::BatchNorm2d value_bn{nullptr};
  torch::nn::Linear value_fc1{nullptr}, value_fc2{nullptr};
};
TORCH_MODULE(PolicyValueNet);

// A freshly initialised network (torch's default initialisation, drawn from torch's global
// CPU generator: call seed_network_init first for a reproducible one). Validates the config.
PolicyValueNet make_network(const Game& game, const NetConfig& config);

// Seeds the CPU generator that network initialisation draws from. Unlike torch::manual_seed
// it never touches CUDA (which a CUDA build of torch::manual_seed initialises): actors must
// not create a CUDA context.
void seed_network_init(uint64_t seed);

// Every parameter AND buffer (batch-norm running statistics included), in registration
// order, as one blob (weight_blob.h). Works for a network on any device.
std::vector<uint8_t> network_to_blob(PolicyValueNet& net);
std::vector<uint8_t> network_to_blob(PolicyValueNet& net, const Game& game,
                                     const NetConfig& config);

// Copies a blob's tensors into the network's existing parameters and buffers (no
// reallocation, so an actor can swap weights between rounds cheaply). The whole blob is
// validated before anything is copied: on any error (damage, or a blob made for another
// game or network shape) a WeightBlobError is thrown with one line naming both networks,
// and the network is unchanged.
void network_from_blob(PolicyValueNet& net, const uint8_t* data, size_t size);
// As above, but also insists on `expected_layout_tag` (the contract's form).
void network_from_blob(PolicyValueNet& net, const uint8_t* data, size_t size,
                       uint64_t expected_layout_tag);

uint64_t network_layout_tag(const Game& game, const NetConfig& config);
std::string network_layout_description(const Game& game, const NetConfig& config);

}  // namespace rz
