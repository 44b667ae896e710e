// PlayOptions: the command line of ringzero-play, parsed and checked before anything loads.
//
//   ringzero-play (--run-dir RUN | --checkpoint FILE | --weights BLOB)
//                 [--color first|second|x|o] [--sims N] [--seed S]
//
// Exactly one network source: a run directory (its newest checkpoint that validates), one
// checkpoint file, or a raw weight blob. The network's own header names the game and the
// network shape, so no --game or --net flag exists to get wrong.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "common/error.h"

namespace rz {

// A command line a user got wrong; the message is one line naming the option and the fix.
struct PlayUsageError : UserError {
  using UserError::UserError;
};

struct PlayOptions {
  std::string run_dir, checkpoint, weights;  // exactly one is set
  int human_player = 0;                      // 0: the person moves first
  int simulations = 200;                     // 0: the network's raw policy, no search
  uint64_t seed = 1;
  bool help = false;  // --help: print usage, do nothing else
};

// Parses argv; throws PlayUsageError.
PlayOptions parse_play_options(int argc, const char* const* argv);

// The --help text (several lines).
const char* play_usage();

}  // namespace rz
