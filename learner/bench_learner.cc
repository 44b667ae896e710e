// ringzero-bench-learner: the learner's costs, each next to its physical reference measured in
// the same run.
//
//   replay insert   records/s and MB/s into the ReplayWindow   vs  memcpy GB/s of same bytes
//   batch build     samples/s (decode, replay, observe, sym)   vs  -
//   train step      samples/s trained (forward+backward+SGD)   vs  raw forward samples/s of
//                                                                  the same network and batch
//   weight publish  ms per weights_blob() + WeightSlot publish  vs  memcpy of the blob's bytes
//                   into a real shared-memory segment
//
//   ringzero-bench-learner [--game connect4] [--blocks 2] [--filters 32] [--batch 128]
//                          [--seconds 3] [--heap-activations 1] [--device cpu|cuda|cuda:N|auto]
//
// --device (learner.device; default cpu) runs the train step, the forward reference and the
// publish on that device: tests/gpu/check.sh compares cpu and cuda in one sitting.
// --heap-activations 1 (default) calls keep_activation_memory_in_heap() first, as the CPU
// learner does; 0 leaves glibc's defaults, to measure what that call is worth.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/mcts/selfplay.h"
#include "common/mcts/uniform_evaluator.h"
#include "common/net/net_evaluator.h"
#include "common/trajectory.h"
#include "learner/batch_builder.h"
#include "learner/record_decode.h"
#include "learner/replay_window.h"
#include "learner/trainer.h"
#include "shm/segment.h"
#include "shm/weight_slot.h"

#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string arg(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (name == argv[i]) return argv[i + 1];
  return def;
}

}  // namespace

int run(int argc, char** argv) {
  const std::string spec = arg(argc, argv, "--game", "connect4");
  const double seconds = std::stod(arg(argc, argv, "--seconds", "3"));
  const bool heap_activations = arg(argc, argv, "--heap-activations", "1") != "0";
  if (heap_activations) rz::keep_activation_memory_in_heap();
  rz::RunConfig config;
  config.game = spec;
  config.net.blocks = std::stoi(arg(argc, argv, "--blocks", "2"));
  config.net.filters = std::stoi(arg(argc, argv, "--filters", "32"));
  config.learner.batch_size = std::stoi(arg(argc, argv, "--batch", "128"));
  config.learner.device = arg(argc, argv, "--device", "cpu");
  config.learner.threads = 1;
  auto game = rz::make_game(spec);

  // Real self-play records (uniform prior, 32 simulations), encoded as actors encode them.
  std::vector<std::vector<uint8_t>> records;
  {
    rz::UniformEvaluator evaluator(*game);
    rz::MctsConfig mcts;
    mcts.simulations = 32;
    rz::SelfPlayDriver driver(*game, evaluator, mcts, 16, 1);
    std::vector<rz::FinishedGame> finished;
    while (finished.size() < 200) driver.run_round(&finished);
    for (size_t i = 0; i < finished.size(); ++i) {
      rz::TrajectoryOrigin origin{rz::game_spec_hash(game->spec()), 0, i};
      records.emplace_back();
      rz::encode_trajectory(finished[i], origin, &records.back());
    }
  }
  uint64_t record_bytes = 0;
  for (auto& r : records) record_bytes += r.size();
  std::printf("game %s, net %s, batch %d, %zu records, mean %.0f bytes, activations %s\n",
              spec.c_str(), config.net.shape_string().c_str(), config.learner.batch_size,
              records.size(), double(record_bytes) / records.size(),
              heap_activations ? "kept in the heap (as the CPU learner)" : "glibc defaults");

  // Replay insert (decode-validate + insert, as the learner's drain does) vs memcpy.
  std::vector<uint8_t> region(64 << 20);
  rz::ReplayWindow window(region.data(), region.size(), 200000, 1, 1);
  rz::FinishedGame decoded;
  std::string error;
  uint64_t inserted = 0, bytes = 0, seq = 0;
  auto t0 = Clock::now();
  while (since(t0) < seconds) {
    for (auto& r : records) {
      rz::decode_record(*game, r.data(), r.size(), &decoded, &error);
      window.insert(0, seq++, r.data(), static_cast<uint32_t>(r.size()),
                    static_cast<uint32_t>(decoded.positions.size()), rz::target_positions(decoded));
      bytes += r.size();
      ++inserted;
    }
  }
  double insert_s = since(t0);
  std::vector<uint8_t> src(record_bytes), dst(record_bytes);
  uint64_t copied = 0;
  t0 = Clock::now();
  while (since(t0) < 0.5) {
    std::memcpy(dst.data(), src.data(), src.size());
    src[copied % src.size()] ^= dst[0];  // keep the copies from being optimised away
    copied += src.size();
  }
  double memcpy_gbs = copied / since(t0) / 1e9;
  std::printf(
      "replay insert (decode+validate+copy+commit): %.0f records/s, %.1f MB/s | memcpy "
      "reference: %.1f GB/s\n",
      inserted / insert_s, bytes / insert_s / 1e6, memcpy_gbs);

  // Batch building.
  rz::BatchBuilder builder(*game, config.learner.batch_size);
  rz::Batch batch;
  std::mt19937_64 rng(1);
  int batches = 0;
  t0 = Clock::now();
  while (since(t0) < seconds) {
    builder.build(window, rng, &batch);
    ++batches;
  }
  double build_sps = batches * double(config.learner.batch_size) / since(t0);
  std::printf("batch build (decode, replay, observe, symmetry): %.0f samples/s\n", build_sps);

  // Train steps vs raw forward of the same network on the same batch.
  rz::Trainer trainer(*game, config, 1);
  std::printf("%s\n", trainer.device_choice().c_str());
  const torch::Device device(trainer.device_name());
  const auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  trainer.train_step(batch, 0.01);  // warm-up
  int steps = 0;
  t0 = Clock::now();
  while (since(t0) < seconds) {
    trainer.train_step(batch, 0.01);
    ++steps;
  }
  double train_sps = steps * double(config.learner.batch_size) / since(t0);
  rz::PolicyValueNet net = rz::make_network(*game, config.net);
  net->to(device);
  net->eval();
  {
    torch::NoGradGuard no_grad;
    auto shape = game->observation_shape();
    torch::Tensor x = torch::from_blob(batch.observations.data(),
                                       {batch.size, shape.planes, shape.height, shape.width})
                          .to(device);
    net->forward(x);
    sync();
    int forwards = 0;
    t0 = Clock::now();
    while (since(t0) < seconds) {
      net->forward(x);
      ++forwards;
      if (forwards % 16 == 0) sync();  // the clock must see the device's work, not its queue
    }
    sync();
    double forward_sps = forwards * double(config.learner.batch_size) / since(t0);
    std::printf(
        "train step (forward+backward+SGD, %s): %.0f samples/s (%.2f ms/step) | raw "
        "forward reference: %.0f samples/s; ratio %.2f (ideal ~3)\n",
        device.is_cuda() ? device.str().c_str() : "1 thread", train_sps,
        1e3 * config.learner.batch_size / train_sps, forward_sps, forward_sps / train_sps);
  }

  // Weight publish, as the learner does it: the blob (device -> host copy and serialisation)
  // into a real segment's WeightSlot; next to a bare memcpy of the same bytes.
  rz::shm::SegmentSizes sizes;
  sizes.lanes = 1;
  sizes.lane_bytes = 1 << 20;
  sizes.max_record_bytes = 64 << 10;
  sizes.weight_bytes = 64ull << 20;
  const std::string shm_name = "/rz-bench-learner-" + std::to_string(::getpid());
  auto segment = rz::shm::Segment::create(shm_name, sizes, "ringzero-bench-learner");
  rz::shm::Segment::remove(shm_name);  // stays mapped; nothing is left behind on a crash
  rz::shm::WeightSlot slot(*segment);
  size_t blob_bytes = 0;
  int publishes = 0;
  t0 = Clock::now();
  while (since(t0) < seconds || publishes < 3) {
    const std::vector<uint8_t> blob = trainer.weights_blob();
    slot.publish(blob.data(), blob.size(), trainer.layout_tag());
    blob_bytes = blob.size();
    ++publishes;
  }
  const double publish_ms = 1e3 * since(t0) / publishes;
  std::vector<uint8_t> a(blob_bytes, 1), b(blob_bytes);
  int copies = 0;
  t0 = Clock::now();
  while (since(t0) < 0.2 || copies < 3) {
    std::memcpy(b.data(), a.data(), a.size());
    a[copies % a.size()] ^= b[0];
    ++copies;
  }
  std::printf(
      "weight publish (weights_blob + WeightSlot publish, %zu bytes, %s): %.3f ms | "
      "memcpy reference: %.3f ms\n",
      blob_bytes, device.str().c_str(), publish_ms, 1e3 * since(t0) / copies);
  return 0;
}

int main(int argc, char** argv) {
  return rz::run_main("ringzero-bench-learner", [&] { return run(argc, argv); });
}
