#include "common/eval/network_file.h"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "common/checkpoint_file.h"
#include "common/net/net_evaluator.h"

namespace rz {

NetworkFile read_network_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(fmt::format("cannot read network file '{}': check the path", path));
  NetworkFile file;
  file.path = path;
  char magic[6] = {};
  in.read(magic, sizeof magic);
  if (in.gcount() == 6 && std::memcmp(magic, "RZCKPT", 6) == 0) {
    file.blob = read_checkpoint(path).weights;  // validates the whole-file checksum
  } else {
    in.clear();
    in.seekg(0);
    file.blob.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  try {
    file.header = parse_weight_blob_header(file.blob.data(), file.blob.size());
  } catch (const WeightBlobError& e) {
    throw std::runtime_error(
        fmt::format("'{}' is neither a checkpoint nor a valid weight blob: {}", path, e.what()));
  }
  return file;
}

std::unique_ptr<Evaluator> make_network_evaluator(const NetworkFile& file, const Game& game) {
  if (file.header.game_spec != game.spec())
    throw std::runtime_error(
        fmt::format("'{}' holds a {} network, not one for {}: pick a network "
                    "trained on {}",
                    file.path, file.header.description(), game.spec(), game.spec()));
  // max_batch 8 = MctsConfig's default virtual_leaves: one forward pass per search step.
  auto evaluator = std::make_unique<NetEvaluator>(game, file.header.config, 8, /*threads=*/1);
  evaluator->load_blob(file.blob);
  return evaluator;
}

}  // namespace rz
