// The network as an ONNX model (https://onnx.ai), built from the known architecture
// (common/net/network.h) and the checkpoint's weights, without LibTorch or the protobuf
// library: LibTorch's C++ API has no ONNX exporter, and the graph is small and fixed, so it
// is written node by node (as other engines export their nets) through ProtoWriter.
//
// Graph (opset 17, IR version 8):
//   input   "observation"    float [batch, planes, height, width]   (batch is dynamic)
//   output  "policy_logits"  float [batch, num_actions]
//   output  "value"          float [batch]    in (-1, 1), for the player to move
// Conv (no bias) -> BatchNormalization (inference: running statistics, epsilon 1e-5) -> Relu
// as in the PyTorch module; the heads end in Flatten -> Gemm (transB=1). Initializers carry
// the checkpoint's tensor names ("block0.conv1.weight"); metadata_props carry the
// ExportedNetwork facts (game, step, weight_version, ... see docs/export.md).
#pragma once

#include <string>

#include "common/export/export_info.h"

namespace rz {

// The serialized ModelProto.
std::string onnx_model(const ExportedNetwork& net);

}  // namespace rz
