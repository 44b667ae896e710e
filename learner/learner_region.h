// Sizing of the segment's learner region (where the replay window lives), for the launcher
// and tests that create the segment. Torch-free (library ringzero_learner_core).
#pragma once

#include <cstdint>

#include "common/run_config.h"

namespace rz {

// Bytes the learner region must have for learner.replay_positions positions of config.game
// with records of at most shm.max_record_bytes. Throws ConfigError for an unknown game.
uint64_t learner_region_bytes_for(const RunConfig& config);

// The tag a region is formatted with: a hash of the canonical game spec, so a learner of
// another game refuses the region instead of misreading its records.
uint64_t replay_game_tag(const std::string& game_spec);

}  // namespace rz
