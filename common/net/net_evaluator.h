// NetEvaluator: the policy/value network behind the Evaluator interface, for self-play
// actors and evaluation tools. Torch-free header (pimpl): including it costs nothing.
//
// One evaluate() call is one forward pass (chunked only if n > max_batch):
//   1. each state writes its observation straight into a preallocated input tensor
//      [max_batch, planes, height, width] (no per-element tensor building: at batch 1 that
//      can cost more than the convolutions);
//   2. one forward under c10::InferenceMode (no autograd bookkeeping);
//   3. a softmax over the legal actions only (State::legal_mask), illegal actions get 0;
//      the value is the network's, already from the mover's point of view.
//
// Threading: the actor runs one evaluator per process on one core; call set_cpu_threads(1)
// (the constructor does it with `threads`) so that neither LibTorch's OpenMP pool nor
// OpenBLAS's pthreads pool spreads a batch-1 convolution over cores that other actors use.
// An evaluator is used by one thread at a time.
//
// Memory: constructing a NetEvaluator sets glibc's mmap and trim thresholds for the process
// (once), so that the ~10 MB activations of a large batch are reused from the heap instead of
// being faulted in afresh by every forward pass; without it ~40% of self-play time went to
// page faults (docs/performance.md).
//
// Precision: fp32 (default) or bf16. In bf16 a second copy of the network, converted to
// bfloat16, runs the forward pass (oneDNN uses the CPU's AVX512-BF16 dot products: measured
// 1.4-2x the fp32 rate at batch 32-256 here, docs/performance.md); the fp32 network stays the
// master that load_blob() writes and blob() reads, and observations, softmax and values stay
// fp32. int8 is not offered: LibTorch 1.13's C++ API has no quantized convolution path that
// does not go through Python's quantization tooling.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/evaluator.h"
#include "common/game.h"
#include "common/net/net_config.h"

namespace rz {

enum class Precision { kFp32, kBf16 };
const char* precision_name(Precision p);  // "fp32", "bf16"

// Whether this CPU has native bf16 dot products (AVX512-BF16 or AMX-BF16, from
// /proc/cpuinfo). Without them oneDNN emulates bf16, slower than fp32.
bool cpu_has_native_bf16();

class NetEvaluator : public Evaluator {
 public:
  // A network with torch's default initialisation, seeded by `seed` (reproducible), in
  // inference mode. Throws std::invalid_argument for a bad config or max_batch < 1.
  NetEvaluator(const Game& game, const NetConfig& config, int max_batch, int threads = 1,
               uint64_t seed = 0);
  ~NetEvaluator() override;
  NetEvaluator(const NetEvaluator&) = delete;
  NetEvaluator& operator=(const NetEvaluator&) = delete;

  void evaluate(const State* const* states, int n, float* policy, float* value) override;

  // Replaces the weights with a blob's (weight_blob.h), copying into the existing tensors:
  // cheap enough to call between self-play rounds. Throws WeightBlobError (one line naming
  // both networks) for a blob of another game or shape, or a damaged one; the current
  // weights then stay in place.
  void load_blob(const uint8_t* data, size_t size);
  void load_blob(const std::vector<uint8_t>& blob) { load_blob(blob.data(), blob.size()); }
  // The current weights as a blob (tests; saving an initial network).
  std::vector<uint8_t> blob() const;

  // States whose network output was not finite (NaN or infinite weights, e.g. from a
  // diverged learner). They are answered with a uniform prior over the legal actions and value
  // 0, so the search stays valid, and counted here so that the actor can report them.
  uint64_t non_finite_outputs() const;

  uint64_t layout_tag() const;
  // "connect4 4x64".
  std::string description() const;
  int max_batch() const;

  // Switches the forward pass to precision `p`. bf16 runs a probe forward first; throws
  // std::runtime_error with one line if this LibTorch cannot run it (fp32 then stays).
  void set_precision(Precision p);
  Precision precision() const;
  // Start-up choice ("auto"): fp32 unless the CPU has native bf16 and a bf16 forward at
  // `batch` is at least 10% faster than fp32 (a few forward passes of each, timed now).
  // Leaves the evaluator at the chosen precision and returns one line saying what runs and
  // why, for the log.
  std::string choose_precision_by_measurement(int batch);

  // Benchmark reference: one forward pass over the first n (<= max_batch) rows of the
  // preallocated input exactly as evaluate() runs it, without observe() or the softmax.
  void forward_only(int n);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sets glibc's mmap and trim thresholds (process-wide, once) so that LibTorch's large
// per-forward activations are reused from the heap instead of being faulted in afresh each
// pass. Every NetEvaluator calls it; a CPU learner may too.
void keep_activation_memory_in_heap();

// Sets LibTorch's intra-op threads and, if OpenBLAS is the loaded BLAS, its threads to n.
void set_cpu_threads(int n);

// The file whose sgemm_ this process uses (dladdr, symlinks resolved; else the libblas.so.3
// mapped in /proc/self/maps), e.g.
// "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3", or "" if none is mapped.
// Debian's LibTorch 1.13 runs small-batch convolutions through it: the reference BLAS is
// about 10x slower than OpenBLAS there.
std::string blas_library_in_use();

}  // namespace rz
