// SgdMomentum: stochastic gradient descent with momentum and L2 weight decay, the optimiser
// of the AlphaZero paper, written out here instead of using torch::optim::SGD.
//
// Why our own: a checkpoint must carry the momentum buffers, and torch::optim's state is
// keyed by tensor-impl addresses and serialised through torch::serialize archives whose
// format differs between LibTorch 1.13 and 2.x. Owning the eight lines of the update makes
// the state a plain list of float tensors in parameter order, which we store as raw
// little-endian floats (save_state) and check shape by shape on load.
//
// The update is torch's SGD with dampening 0 and no Nesterov term:
//   d = grad + weight_decay * w;   b = momentum * b + d;   w = w - lr * b
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace rz {

class SgdMomentum {
 public:
  SgdMomentum(std::vector<torch::Tensor> parameters, double momentum, double weight_decay);

  void zero_grad();
  // One update with learning rate `lr` from the gradients currently in .grad().
  void step(double lr);

  // Momentum buffers as: u32 count, then per buffer u64 element count + raw float32 data.
  std::vector<uint8_t> save_state() const;
  // Restores buffers saved by save_state for the same parameter shapes; throws
  // std::runtime_error (one line) on a mismatch, leaving the buffers unchanged.
  void load_state(const uint8_t* data, size_t size);

 private:
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> momentum_buffers_;
  double momentum_, weight_decay_;
};

}  // namespace rz
