// The learner's one use of the trajectory record format (common/trajectory.h): decode and
// fully validate a ring record into a FinishedGame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/finished_game.h"
#include "common/game.h"

namespace rz {

// Decodes `data` into *game. On a bad record returns false and sets *error to a one-line
// reason; never reads outside [data, data + size) (decode_trajectory bounds-checks).
// std::bad_alloc propagates: running out of memory is fatal, not a bad record.
bool decode_record(const Game& game, const uint8_t* data, size_t size, FinishedGame* out,
                   std::string* error);

// Indices of the full-search positions of a decoded game (the training targets).
std::vector<uint16_t> target_positions(const FinishedGame& game);

}  // namespace rz
