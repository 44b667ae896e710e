#include "learner/learner_region.h"

#include "common/checkpoint_file.h"
#include "common/game.h"
#include "learner/replay_window.h"

namespace rz {

uint64_t learner_region_bytes_for(const RunConfig& config) {
  std::unique_ptr<Game> game;
  try {
    game = make_game(config.game);
  } catch (const GameError& e) {
    throw ConfigError(e.what());
  }
  // A generous bound on the encoded size of one position (move, player, value, weight
  // version, visit pairs of every legal action) plus the replay entry's u16 target index.
  // Overestimating only costs shared memory; the window is bounded in positions anyway.
  const uint64_t per_position = 32 + 8ull * game->num_actions() + 2;
  return replay_region_bytes(static_cast<uint64_t>(config.learner.replay_positions), per_position,
                             config.shm.max_record_bytes);
}

uint64_t replay_game_tag(const std::string& game_spec) {
  return fnv1a64(game_spec.data(), game_spec.size());
}

}  // namespace rz
