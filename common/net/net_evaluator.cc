#include "common/net/net_evaluator.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <dlfcn.h>
#include <malloc.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "common/net/network.h"

namespace rz {

struct NetEvaluator::Impl {
  Impl(const Game& game, const NetConfig& config_, int max_batch_, uint64_t seed)
      : max_batch(max_batch_),
        num_actions(game.num_actions()),
        obs_size(game.observation_shape().size()),
        game_copy(make_game(game.spec())),
        config(config_),
        net(nullptr),
        reduced(nullptr) {
    if (max_batch < 1)
      throw std::invalid_argument("NetEvaluator: max_batch=" + std::to_string(max_batch) +
                                  " is invalid: use at least 1");
    seed_network_init(seed);
    net = make_network(game, config_);
    net->eval();  // batch norm uses its running statistics
    const ObservationShape s = game.observation_shape();
    input = torch::zeros({max_batch, s.planes, s.height, s.width});
    legal.resize(static_cast<size_t>(max_batch) * num_actions);
  }

  // Rows [0, n) of `input` must already hold observations.
  std::pair<torch::Tensor, torch::Tensor> forward(int n) {
    c10::InferenceMode guard;
    if (precision == Precision::kBf16) {
      auto out = reduced->forward(input.narrow(0, 0, n).to(torch::kBFloat16));
      return {out.first.to(torch::kFloat).contiguous(), out.second.to(torch::kFloat).contiguous()};
    }
    auto out = net->forward(input.narrow(0, 0, n));
    return {out.first.contiguous(), out.second.contiguous()};
  }

  // Copies the fp32 master's parameters and buffers into the reduced-precision copy
  // (copy_ converts the type).
  void sync_reduced() {
    if (!reduced) return;
    torch::NoGradGuard no_grad;
    auto dst_p = reduced->named_parameters();
    for (const auto& p : net->named_parameters()) dst_p[p.key()].copy_(p.value());
    auto dst_b = reduced->named_buffers();
    for (const auto& b : net->named_buffers()) dst_b[b.key()].copy_(b.value());
  }

  void set_precision(Precision p) {
    if (p == Precision::kFp32) {
      precision = p;
      reduced = nullptr;
      return;
    }
    try {
      auto copy = make_network(*game_copy, config);
      copy->to(torch::kBFloat16);
      copy->eval();
      reduced = copy;
      sync_reduced();
      precision = p;
      forward(1);  // the probe: throws here if this build cannot run bf16 convolutions
    } catch (const std::exception& e) {
      precision = Precision::kFp32;
      reduced = nullptr;
      std::string what = e.what();
      what = what.substr(0, what.find('\n'));
      throw std::runtime_error("bf16 inference does not run in this LibTorch build (" + what +
                               "): use actor.precision=fp32");
    }
  }

  // Seconds per forward pass at batch n (best of two, after one warm-up: a start-up cost of
  // six forward passes in all).
  double time_forward(int n) {
    forward(n);
    double best = 1e30;
    for (int i = 0; i < 2; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      forward(n);
      best = std::min(best,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
  }

  void evaluate_chunk(const State* const* states, int n, float* policy, float* value) {
    float* in = input.data_ptr<float>();
    for (int i = 0; i < n; ++i) {
      states[i]->observe(in + static_cast<size_t>(i) * obs_size);
      states[i]->legal_mask(legal.data() + static_cast<size_t>(i) * num_actions);
    }
    auto [logits, v] = forward(n);
    const float* l = logits.data_ptr<float>();
    const float* vv = v.data_ptr<float>();
    for (int i = 0; i < n; ++i) {
      const bool policy_ok = masked_softmax(l + static_cast<size_t>(i) * num_actions,
                                            legal.data() + static_cast<size_t>(i) * num_actions,
                                            policy + static_cast<size_t>(i) * num_actions);
      const bool value_ok = std::isfinite(vv[i]);
      value[i] = value_ok ? std::clamp(vv[i], -1.0f, 1.0f) : 0.0f;
      non_finite += !(policy_ok && value_ok);
    }
  }

  // Softmax over the legal actions; subtracting the max keeps exp() finite. Returns false
  // (and writes a uniform prior over the legal actions) if the logits were not finite.
  bool masked_softmax(const float* logits, const uint8_t* mask, float* out) const {
    float max_logit = -INFINITY;
    int legal_count = 0;
    for (int a = 0; a < num_actions; ++a)
      if (mask[a]) {
        max_logit = std::max(max_logit, logits[a]);
        ++legal_count;
      }
    float sum = 0.0f;
    for (int a = 0; a < num_actions; ++a) {
      out[a] = mask[a] ? std::exp(logits[a] - max_logit) : 0.0f;
      sum += out[a];
    }
    // NaN fails both comparisons; an infinite logit makes max_logit infinite and sum NaN.
    const bool ok = sum > 0.0f && std::isfinite(sum);
    const float inv = ok ? 1.0f / sum : legal_count > 0 ? 1.0f / legal_count : 0.0f;
    for (int a = 0; a < num_actions; ++a) out[a] = ok ? out[a] * inv : (mask[a] ? inv : 0.0f);
    return ok;
  }

  int max_batch;
  int num_actions;
  int obs_size;
  std::unique_ptr<Game> game_copy;  // to build the reduced-precision copy
  NetConfig config;
  PolicyValueNet net;      // fp32 master: load_blob, blob
  PolicyValueNet reduced;  // bf16 copy, or null in fp32
  Precision precision = Precision::kFp32;
  torch::Tensor input;         // [max_batch, planes, height, width], reused by every call
  std::vector<uint8_t> legal;  // [max_batch, num_actions]
  uint64_t non_finite = 0;     // states answered with the uniform fallback
};

// LibTorch allocates every activation of every forward with malloc and frees it right after.
// At batch ~1000 an activation is ~11 MB: above glibc's mmap threshold, or freed to the top
// of the heap and trimmed back to the kernel. Either way each forward then re-faults tens of
// megabytes of fresh zeroed pages (perf: ~40% of self-play time in clear_page / page faults).
// Keeping such blocks in the heap makes the next forward reuse them. Process-wide, set once,
// and only in processes that ask for it (every NetEvaluator does; so may the CPU learner).
void keep_activation_memory_in_heap() {
  static const bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum; larger blocks still use mmap
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return true;
  }();
  (void)done;
}

NetEvaluator::NetEvaluator(const Game& game, const NetConfig& config, int max_batch, int threads,
                           uint64_t seed)
    : impl_(std::make_unique<Impl>(game, config, max_batch, seed)) {
  keep_activation_memory_in_heap();
  set_cpu_threads(threads);
}

NetEvaluator::~NetEvaluator() = default;

void NetEvaluator::evaluate(const State* const* states, int n, float* policy, float* value) {
  for (int done = 0; done < n; done += impl_->max_batch) {
    const int k = std::min(impl_->max_batch, n - done);
    impl_->evaluate_chunk(states + done, k, policy + static_cast<size_t>(done) * impl_->num_actions,
                          value + done);
  }
  count(n);
}

void NetEvaluator::load_blob(const uint8_t* data, size_t size) {
  network_from_blob(impl_->net, data, size);
  impl_->sync_reduced();
}

const char* precision_name(Precision p) {
  return p == Precision::kBf16 ? "bf16" : "fp32";
}

bool cpu_has_native_bf16() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    line += ' ';
    return line.find(" avx512_bf16 ") != std::string::npos ||
           line.find(" amx_bf16 ") != std::string::npos;
  }
  return false;
}

void NetEvaluator::set_precision(Precision p) {
  impl_->set_precision(p);
}

Precision NetEvaluator::precision() const {
  return impl_->precision;
}

std::string NetEvaluator::choose_precision_by_measurement(int batch) {
  batch = std::clamp(batch, 1, impl_->max_batch);
  if (!cpu_has_native_bf16()) {
    impl_->set_precision(Precision::kFp32);
    return "precision fp32 (auto: this CPU has no native bf16, AVX512-BF16 or AMX-BF16)";
  }
  impl_->set_precision(Precision::kFp32);
  const double fp32 = impl_->time_forward(batch);
  try {
    impl_->set_precision(Precision::kBf16);
  } catch (const std::exception& e) {
    return fmt::format("precision fp32 (auto: {})", e.what());
  }
  const double bf16 = impl_->time_forward(batch);
  const bool faster = bf16 * 1.1 <= fp32;
  if (!faster) impl_->set_precision(Precision::kFp32);
  return fmt::format(
      "precision {} (auto: forward at batch {}: fp32 {:.0f} positions/s, bf16 {:.0f} positions/s; "
      "CPU has native bf16)",
      faster ? "bf16" : "fp32", batch, batch / fp32, batch / bf16);
}

std::vector<uint8_t> NetEvaluator::blob() const {
  return network_to_blob(impl_->net);
}

uint64_t NetEvaluator::layout_tag() const {
  return impl_->net->layout_tag();
}

std::string NetEvaluator::description() const {
  return impl_->net->description();
}

int NetEvaluator::max_batch() const {
  return impl_->max_batch;
}

uint64_t NetEvaluator::non_finite_outputs() const {
  return impl_->non_finite;
}

void NetEvaluator::forward_only(int n) {
  if (n < 1 || n > impl_->max_batch)
    throw std::invalid_argument("NetEvaluator::forward_only: n=" + std::to_string(n) +
                                " is outside [1, max_batch]");
  impl_->forward(n);
}

void set_cpu_threads(int n) {
  if (n < 1) throw std::invalid_argument("cpu threads=" + std::to_string(n) + ": use at least 1");
  at::set_num_threads(n);
  // OpenBLAS keeps its own pthreads pool; look it up at run time so that the reference BLAS
  // (which has no threads and no such symbol) works too.
  using SetThreads = void (*)(int);
  if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(n);
}

std::string blas_library_in_use() {
  // The library whose sgemm_ the dynamic linker binds LibTorch to: with both the reference
  // libblas.so.3 and libopenblas.so.0 mapped, the first in search order wins.
  Dl_info info{};
  if (void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
      sgemm && dladdr(sgemm, &info) && info.dli_fname) {
    char resolved[4096];
    if (realpath(info.dli_fname, resolved)) return resolved;
    return info.dli_fname;
  }
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.substr(path.rfind('/') + 1).rfind("libblas.so", 0) == 0) return path;
  }
  return "";
}

}  // namespace rz
