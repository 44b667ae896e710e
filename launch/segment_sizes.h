// How big the run's shared-memory segment must be, from the run's configuration.
//
// The supervisor creates the segment before any other process exists, so it must know every
// size up front: one ring lane per actor, the weight slot large enough for the largest blob
// the learner will publish, and the learner's region. The weight blob size follows from the
// network shape (common/net/network.h documents the layers); the supervisor cannot ask
// LibTorch (it must never load it), so it computes a safe upper bound from that description
// unless shm.weight_bytes gives an explicit size.
#pragma once

#include <cstdint>

#include "common/game.h"
#include "common/run_config.h"
#include "shm/segment.h"

namespace rz::launch {

// Upper bound of the weight blob of `net` for `game`: float parameters and buffers of every
// layer in common/net/network.h, plus the blob header with all tensor descriptions, plus a
// margin. Tested against a real blob in tests/launch.
uint64_t weight_blob_upper_bound(const Game& game, const NetConfig& net);

// The sizes for a run with `actors` lanes. Throws shm::ShmError (one line) if the
// configuration gives impossible sizes.
shm::SegmentSizes segment_sizes_for(const RunConfig& config, const Game& game, int actors);

}  // namespace rz::launch
