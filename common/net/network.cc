#include "common/net/network.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/activation.h>
#include <torch/utils.h>

#include <cstring>
#include <mutex>
#include <stdexcept>

namespace rz {
namespace {

constexpr int kPolicyPlanes = 2;  // AlphaZero's policy head width
constexpr int kValueHidden = 64;

torch::nn::Conv2d conv(int in, int out, int kernel) {
  // No bias: the batch norm that follows has its own shift.
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2).bias(false));
}

BlobDType blob_dtype(const torch::Tensor& t) {
  if (t.scalar_type() == torch::kFloat32) return BlobDType::kFloat32;
  if (t.scalar_type() == torch::kInt64) return BlobDType::kInt64;
  throw std::logic_error("network tensor has a dtype the weight blob cannot carry");
}

torch::Dtype torch_dtype(BlobDType d) {
  return d == BlobDType::kInt64 ? torch::kInt64 : torch::kFloat32;
}

// The network's tensors in blob order: parameters, then buffers, each in registration order.
std::vector<std::pair<std::string, torch::Tensor>> blob_tensors(torch::nn::Module& net) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : net.named_parameters(/*recurse=*/true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : net.named_buffers(/*recurse=*/true)) out.emplace_back(b.key(), b.value());
  return out;
}

std::vector<BlobTensor> describe(const std::vector<std::pair<std::string, torch::Tensor>>& ts) {
  std::vector<BlobTensor> out;
  for (const auto& [name, t] : ts) {
    BlobTensor d;
    d.name = name;
    d.dtype = blob_dtype(t);
    d.shape = t.sizes().vec();
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

ResidualBlockImpl::ResidualBlockImpl(int filters) {
  conv1 = register_module("conv1", conv(filters, filters, 3));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(filters));
  conv2 = register_module("conv2", conv(filters, filters, 3));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(filters));
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(bn1(conv1(x)));
  y = bn2(conv2(y));
  return torch::relu(y + x);
}

PolicyValueNetImpl::PolicyValueNetImpl(const Game& game, const NetConfig& config)
    : game_spec_(game.spec()),
      config_(config),
      obs_(game.observation_shape()),
      num_actions_(game.num_actions()) {
  config.validate();
  const int f = config.filters;
  const int cells = obs_.height * obs_.width;
  stem_conv = register_module("stem_conv", conv(obs_.planes, f, 3));
  stem_bn = register_module("stem_bn", torch::nn::BatchNorm2d(f));
  for (int i = 0; i < config.blocks; ++i)
    blocks_.push_back(register_module("block" + std::to_string(i), ResidualBlock(f)));
  policy_conv = register_module("policy_conv", conv(f, kPolicyPlanes, 1));
  policy_bn = register_module("policy_bn", torch::nn::BatchNorm2d(kPolicyPlanes));
  policy_fc = register_module("policy_fc", torch::nn::Linear(kPolicyPlanes * cells, num_actions_));
  value_conv = register_module("value_conv", conv(f, 1, 1));
  value_bn = register_module("value_bn", torch::nn::BatchNorm2d(1));
  value_fc1 = register_module("value_fc1", torch::nn::Linear(cells, kValueHidden));
  value_fc2 = register_module("value_fc2", torch::nn::Linear(kValueHidden, 1));
  layout_tag_ =
      weight_layout_tag(kNetworkArchitecture, game_spec_, config_, describe(blob_tensors(*this)));
}

std::pair<torch::Tensor, torch::Tensor> PolicyValueNetImpl::forward(const torch::Tensor& x) {
  auto h = torch::relu(stem_bn(stem_conv(x)));
  for (auto& block : blocks_) h = block(h);
  auto p = torch::relu(policy_bn(policy_conv(h))).flatten(1);
  auto logits = policy_fc(p);
  auto v = torch::relu(value_bn(value_conv(h))).flatten(1);
  v = torch::tanh(value_fc2(torch::relu(value_fc1(v)))).view({-1});
  return {logits, v};
}

std::string PolicyValueNetImpl::description() const {
  return game_spec_ + " " + config_.shape_string();
}

PolicyValueNet make_network(const Game& game, const NetConfig& config) {
  return PolicyValueNet(game, config);
}

void seed_network_init(uint64_t seed) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();  // shares the global state
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(seed);
}

std::vector<uint8_t> network_to_blob(PolicyValueNet& net) {
  torch::NoGradGuard no_grad;
  auto tensors = blob_tensors(*net);
  // Host copies stay alive until the blob is written (the CUDA learner's tensors are not
  // addressable from here).
  std::vector<torch::Tensor> host;
  std::vector<BlobTensorData> data;
  for (const auto& [name, t] : tensors) {
    host.push_back(t.detach().to(torch::kCPU).contiguous());
    BlobTensorData d;
    d.name = name;
    d.dtype = blob_dtype(host.back());
    d.shape = host.back().sizes().vec();
    d.data = host.back().data_ptr();
    data.push_back(std::move(d));
  }
  return write_weight_blob(kNetworkArchitecture, net->game_spec(), net->config(), data);
}

std::vector<uint8_t> network_to_blob(PolicyValueNet& net, const Game& game,
                                     const NetConfig& config) {
  if (game.spec() != net->game_spec() || config != net->config())
    throw std::invalid_argument("network_to_blob: network is " + net->description() +
                                " but the caller describes it as " + game.spec() + " " +
                                config.shape_string());
  return network_to_blob(net);
}

void network_from_blob(PolicyValueNet& net, const uint8_t* data, size_t size) {
  const WeightBlobHeader h = parse_weight_blob_header(data, size);
  if (h.layout_tag != net->layout_tag()) {
    if (h.description() != net->description())
      throw WeightBlobError("weights are for " + h.description() + " but this network is " +
                            net->description() +
                            ": use a checkpoint of the same game and network shape");
    throw WeightBlobError("weights are for " + h.description() + " " + h.architecture +
                          " but this network is " + net->description() + " " +
                          kNetworkArchitecture +
                          " (same shape, different architecture version): use a checkpoint "
                          "written by this ringzero version");
  }
  auto tensors = blob_tensors(*net);
  // Equal tags make a mismatch here practically impossible; check anyway, before copying
  // anything, so a hash collision can never half-load a network.
  if (tensors.size() != h.tensors.size())
    throw WeightBlobError("weight blob has " + std::to_string(h.tensors.size()) +
                          " tensors but the network has " + std::to_string(tensors.size()) +
                          ": use a checkpoint of the same game and network shape");
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    const BlobTensor& b = h.tensors[i];
    if (b.name != name || b.shape != t.sizes().vec() || torch_dtype(b.dtype) != t.scalar_type())
      throw WeightBlobError("weight blob tensor '" + b.name + "' does not match network tensor '" +
                            name + "': use a checkpoint of the same game and network shape");
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const BlobTensor& b = h.tensors[i];
    // from_blob wants a mutable pointer; the source is only read by copy_.
    auto src = torch::from_blob(const_cast<uint8_t*>(data + b.offset), b.shape,
                                torch::TensorOptions().dtype(torch_dtype(b.dtype)));
    tensors[i].second.copy_(src);
  }
}

void network_from_blob(PolicyValueNet& net, const uint8_t* data, size_t size,
                       uint64_t expected_layout_tag) {
  if (expected_layout_tag != net->layout_tag())
    throw std::invalid_argument("network_from_blob: expected layout tag does not match network " +
                                net->description());
  network_from_blob(net, data, size);
}

uint64_t network_layout_tag(const Game& game, const NetConfig& config) {
  return make_network(game, config)->layout_tag();
}

std::string network_layout_description(const Game& game, const NetConfig& config) {
  return game.spec() + " " + config.shape_string();
}

}  // namespace rz
