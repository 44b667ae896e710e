// Trajectory records: one finished self-play game as one TrajectoryRing record.
//
// The actor encodes every FinishedGame into a compact, versioned binary record; the learner
// decodes it. No observation tensors travel: the learner rebuilds every state by replaying
// the actions from the initial state, which costs microseconds and makes a record ~20x
// smaller than one carrying planes.
//
// A record is untrusted input to the learner (shared memory can be scribbled on by a buggy
// or dying process), so decode_trajectory() validates EVERYTHING before returning: every read
// is bounds-checked, the magic and format version, a trailing checksum, the game (hash of
// its spec), every action legal when replayed and played by the player to move, visit
// actions legal, strictly increasing and counted >= 1 with the played action among them,
// root values and outcomes in [-1, 1], weight versions consistent, the final state terminal
// with the recorded outcome (unless the game was resigned, which needs a +1/-1 outcome),
// consistent flags, no trailing bytes. Any failure throws TrajectoryError with a one-line
// reason; the learner counts and skips the record.
//
// Layout, format version 1, all integers little-endian; "var" = unsigned LEB128 varint:
//   u32 magic 'RZT1'   u16 version   u16 flags (bit0 resigned, bit1 resign_disabled,
//                                               bit2 would_have_resigned_wrongly)
//   u64 game_spec_hash u32 actor_slot u64 game_id
//   u64 min_weight_version          u64 max_weight_version
//   f32 returns[0]     f32 returns[1]   var num_positions
//   num_positions x {  u16 action   u8 bits (bit0 mover, bit1 full_search)
//                      i16 root_value * 32767      var weight_version - min_weight_version
//                      var num_visits  num_visits x { u16 action  var count } }
//   u32 checksum (FNV-1a 32 of every byte before it)
// A Connect Four position takes 8 bytes + ~3-4 per visited child (<= 36). Root values are quantised
// to 1/32767 (the value target is the game outcome; the root value serves resignation statistics
// and priorities).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/finished_game.h"
#include "common/game.h"

namespace rz {

struct TrajectoryError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr uint32_t kTrajectoryMagic = 0x31545a52;  // "RZT1" in little-endian bytes
constexpr uint16_t kTrajectoryVersion = 1;

// 64-bit FNV-1a of Game::spec(): records of another game (or other parameters) are refused.
uint64_t game_spec_hash(const std::string& spec);

// Who produced a game; the weight versions are computed from the positions.
struct TrajectoryOrigin {
  uint64_t game_spec_hash = 0;
  uint32_t actor_slot = 0;
  uint64_t game_id = 0;  // per-actor counter
};

struct DecodedTrajectory {
  TrajectoryOrigin origin;
  uint64_t min_weight_version = 0, max_weight_version = 0;
  FinishedGame game;  // visits sorted by action; root_value quantised
};

// Encodes `game` into *out (cleared first; reuse one buffer to avoid allocations). Throws
// TrajectoryError if the game cannot be represented (action >= 65536, NaN value, more
// visits than 2^32-1) — those are bugs of the producer, never silently mangled.
void encode_trajectory(const FinishedGame& game, const TrajectoryOrigin& origin,
                       std::vector<uint8_t>* out);

// Validates and decodes one record for `game` (see the header comment for every check).
DecodedTrajectory decode_trajectory(const uint8_t* data, size_t size, const Game& game);

}  // namespace rz
