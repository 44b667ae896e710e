#include "common/export/export_info.h"

#include <fmt/format.h>

#include <memory>
#include <stdexcept>

namespace rz {

const BlobTensor& ExportedNetwork::tensor(const std::string& name) const {
  for (const BlobTensor& t : header.tensors)
    if (t.name == name && t.dtype == BlobDType::kFloat32) return t;
  throw std::runtime_error(
      fmt::format("'{}' has no float tensor '{}': export needs a checkpoint "
                  "written by this ringzero version",
                  checkpoint_path, name));
}

ExportedNetwork read_exported_network(const std::string& path) {
  ExportedNetwork net;
  net.checkpoint_path = path;
  CheckpointInfo info;
  try {
    info = read_checkpoint(path);
  } catch (const CheckpointError& e) {
    throw std::runtime_error(
        std::string(e.what()) +
        ": check the path, or export another checkpoint (RUN/checkpoints/ keeps the last few)");
  }
  try {
    net.header = parse_weight_blob_header(info.weights.data(), info.weights.size());
  } catch (const WeightBlobError& e) {
    throw std::runtime_error(
        fmt::format("checkpoint '{}' holds damaged weights: {}", path, e.what()));
  }
  if (net.header.architecture != kExportedArchitecture)
    throw std::runtime_error(fmt::format(
        "checkpoint '{}' holds a {} network, but this exporter writes {} networks: use the "
        "ringzero version that trained it",
        path, net.header.architecture, kExportedArchitecture));
  std::unique_ptr<Game> game;
  try {
    game = make_game(net.header.game_spec);
  } catch (const GameError& e) {
    throw std::runtime_error(fmt::format("checkpoint '{}': {}", path, e.what()));
  }
  net.game_spec = net.header.game_spec;
  net.observation = game->observation_shape();
  net.num_actions = game->num_actions();
  net.config = net.header.config;
  net.step = static_cast<int64_t>(info.step);
  net.weight_version = static_cast<int64_t>(info.weight_version);
  net.blob = std::move(info.weights);
  return net;
}

}  // namespace rz
