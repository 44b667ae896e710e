#include "learner/sgd.h"

#include <torch/torch.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace rz {

SgdMomentum::SgdMomentum(std::vector<torch::Tensor> parameters, double momentum,
                         double weight_decay)
    : params_(std::move(parameters)), momentum_(momentum), weight_decay_(weight_decay) {
  for (auto& p : params_) momentum_buffers_.push_back(torch::zeros_like(p));
}

void SgdMomentum::zero_grad() {
  for (auto& p : params_)
    if (p.grad().defined()) p.grad().zero_();
}

void SgdMomentum::step(double lr) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    if (!p.grad().defined()) continue;
    torch::Tensor d = p.grad();
    if (weight_decay_ != 0) d = d.add(p, weight_decay_);
    momentum_buffers_[i].mul_(momentum_).add_(d);
    p.add_(momentum_buffers_[i], -lr);
  }
}

std::vector<uint8_t> SgdMomentum::save_state() const {
  std::vector<uint8_t> out;
  auto put = [&](const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  };
  uint32_t count = static_cast<uint32_t>(momentum_buffers_.size());
  put(&count, 4);
  for (const auto& b : momentum_buffers_) {
    torch::Tensor c = b.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    uint64_t n = static_cast<uint64_t>(c.numel());
    put(&n, 8);
    put(c.data_ptr<float>(), n * sizeof(float));
  }
  return out;
}

void SgdMomentum::load_state(const uint8_t* data, size_t size) {
  auto fail = [](const std::string& why) {
    throw std::runtime_error("checkpoint optimiser state does not fit this network (" + why +
                             "); resume with the run's own config or start a new run");
  };
  size_t pos = 0;
  auto take = [&](void* dst, size_t n) {
    if (n > size - pos) fail("truncated");
    std::memcpy(dst, data + pos, n);
    pos += n;
  };
  uint32_t count = 0;
  take(&count, 4);
  if (count != momentum_buffers_.size())
    fail(std::to_string(count) + " buffers, network has " +
         std::to_string(momentum_buffers_.size()));
  std::vector<torch::Tensor> loaded;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t n = 0;
    take(&n, 8);
    if (n != static_cast<uint64_t>(momentum_buffers_[i].numel()))
      fail("buffer " + std::to_string(i) + " size");
    torch::Tensor t = torch::empty(momentum_buffers_[i].sizes(), torch::kFloat32);
    take(t.data_ptr<float>(), n * sizeof(float));
    loaded.push_back(t.to(momentum_buffers_[i].device()));
  }
  if (pos != size) fail("trailing bytes");
  momentum_buffers_ = std::move(loaded);
}

}  // namespace rz
