// What an exported network says about itself, shared by the TorchScript and the ONNX writer
// (docs/export.md lists it for users): where it came from (game, checkpoint step, published
// weight version), its shape, and how to feed it.
//
// kObservationLayoutVersion numbers the observation encoding that docs/export.md documents
// (every game's State::observe). Bump it whenever any game's planes change meaning, so that
// a program holding an exported model can refuse one whose inputs it would misread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/checkpoint_file.h"
#include "common/game.h"
#include "common/net/weight_blob.h"

namespace rz {

constexpr int64_t kObservationLayoutVersion = 1;

// The only architecture the exporters know how to restate (common/net/network.h's
// kNetworkArchitecture; torchscript_model.cc checks that the two agree at compile time).
constexpr const char* kExportedArchitecture = "rz-resnet-v1";

struct ExportedNetwork {
  std::string checkpoint_path;
  std::string game_spec;
  ObservationShape observation;  // planes x height x width, one sample
  int64_t num_actions = 0;
  NetConfig config;
  int64_t step = 0, weight_version = 0;
  std::vector<uint8_t> blob;  // the checkpoint's weight blob
  WeightBlobHeader header;    // parsed and validated

  // The tensor `name` of the blob (float32), its data and shape. Throws
  // std::runtime_error naming the tensor when the blob has no such float tensor.
  const BlobTensor& tensor(const std::string& name) const;
  const float* data(const BlobTensor& t) const {
    return reinterpret_cast<const float*>(blob.data() + t.offset);
  }
};

// Reads and validates `path` (a checkpoint, common/checkpoint_file.h), its game and the
// architecture. Throws std::runtime_error with one line naming the file, the problem and
// the fix.
ExportedNetwork read_exported_network(const std::string& path);

}  // namespace rz
