// Loading a network for evaluation from either file a user has: a checkpoint
// (RUN/checkpoints/ckpt-<step>.rzck, common/checkpoint_file.h) or a raw weight blob (as
// network_to_blob writes it). The blob header says the game and the network shape, so no
// other flag is needed. Torch-free header; the evaluator itself is ringzero_net's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/evaluator.h"
#include "common/game.h"
#include "common/net/weight_blob.h"

namespace rz {

struct NetworkFile {
  std::string path;
  std::vector<uint8_t> blob;
  WeightBlobHeader header;  // game spec, NetConfig, layout tag
};

// Reads and validates a checkpoint or blob file. Throws std::runtime_error with a one-line
// message (missing file, corrupt checkpoint, damaged blob).
NetworkFile read_network_file(const std::string& path);

// A NetEvaluator holding the file's weights, for `game`; throws a one-line error if the
// network was trained for another game.
std::unique_ptr<Evaluator> make_network_evaluator(const NetworkFile& file, const Game& game);

}  // namespace rz
