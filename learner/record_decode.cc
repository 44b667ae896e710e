#include "learner/record_decode.h"

#include <new>

#include "common/trajectory.h"

namespace rz {

bool decode_record(const Game& game, const uint8_t* data, size_t size, FinishedGame* out,
                   std::string* error) {
  try {
    DecodedTrajectory t = decode_trajectory(data, size, game);
    *out = std::move(t.game);
    return true;
  } catch (const TrajectoryError& e) {
    *error = e.what();
  } catch (const std::bad_alloc&) {
    throw;  // out of memory says nothing about the record: never drop a good one for it
  } catch (const std::exception& e) {
    // Anything else decoding may throw (a game rejecting a move, an allocation for absurd
    // counts) is still a bad record, never a learner crash.
    *error = std::string("undecodable record: ") + e.what();
  }
  return false;
}

std::vector<uint16_t> target_positions(const FinishedGame& game) {
  std::vector<uint16_t> targets;
  for (size_t i = 0; i < game.positions.size(); ++i)
    if (game.positions[i].full_search && !game.positions[i].visits.empty())
      targets.push_back(static_cast<uint16_t>(i));
  return targets;
}

}  // namespace rz
