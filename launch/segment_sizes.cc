#include "launch/segment_sizes.h"

#include "learner/learner_region.h"

namespace rz::launch {

uint64_t weight_blob_upper_bound(const Game& game, const NetConfig& net) {
  const ObservationShape shape = game.observation_shape();
  const uint64_t F = static_cast<uint64_t>(net.filters);
  const uint64_t P = static_cast<uint64_t>(shape.planes);
  const uint64_t HW = static_cast<uint64_t>(shape.height) * static_cast<uint64_t>(shape.width);
  const uint64_t A = static_cast<uint64_t>(game.num_actions());
  // Every convolution and linear layer counted with a bias; every batch norm with weight,
  // bias, running mean, running variance and the int64 batch counter (4 + 2 words).
  auto conv = [](uint64_t in, uint64_t out, uint64_t k) { return in * out * k * k + out; };
  auto bn = [](uint64_t c) { return 4 * c + 2; };
  uint64_t floats = conv(P, F, 3) + bn(F);                                    // stem
  floats += static_cast<uint64_t>(net.blocks) * 2 * (conv(F, F, 3) + bn(F));  // tower
  floats += conv(F, 2, 1) + bn(2) + (2 * HW * A + A);                         // policy head
  floats += conv(F, 1, 1) + bn(1) + (HW * 64 + 64) + (64 + 1);                // value head
  const uint64_t tensors = 7 + static_cast<uint64_t>(net.blocks) * 2 * 7 + 7 + 11;
  // Header: fixed fields, architecture + game spec, and per tensor its name (generously
  // 96 bytes), dtype, rank and up to 4 dimensions; each tensor padded to 8 bytes.
  const uint64_t header = 256 + 1024 + tensors * (8 + 96 + 8 + 32 + 8);
  const uint64_t exact_bound = floats * 4 + header;
  // A quarter more and 64 KiB on top: a slightly changed architecture must not overflow.
  const uint64_t padded = exact_bound + exact_bound / 4 + (64u << 10);
  return (padded + 4095) / 4096 * 4096;
}

shm::SegmentSizes segment_sizes_for(const RunConfig& config, const Game& game, int actors) {
  shm::SegmentSizes sizes;
  sizes.lanes = static_cast<uint32_t>(actors);
  sizes.lane_bytes = config.shm.lane_bytes;
  sizes.max_record_bytes = config.shm.max_record_bytes;
  sizes.weight_bytes = config.shm.weight_bytes != 0 ? config.shm.weight_bytes
                                                    : weight_blob_upper_bound(game, config.net);
  // Enough stats slots for every actor, the learner, the supervisor and a few tools.
  sizes.stats_slots = static_cast<uint32_t>(config.shm.stats_slots);
  sizes.learner_region_bytes = learner_region_bytes_for(config);  // the replay window
  sizes.validate();
  return sizes;
}

}  // namespace rz::launch
