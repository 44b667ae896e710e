// The network as a TorchScript module, loadable by Python's torch.jit.load and C++'s
// torch::jit::load without any ringzero code.
//
// The module is built here directly (torch::jit::Module: parameters, buffers, attributes
// and a forward method compiled from TorchScript source that restates the architecture of
// common/net/network.h with torch.conv2d / torch.batch_norm / torch.addmm), rather than by
// tracing the C++ nn::Module, which LibTorch cannot script. The tests compare its outputs
// with PolicyValueNet's on the same weights, so a change to the architecture that is not
// made here too fails them.
//
//   forward(observation: float [B, planes, height, width]) -> (policy_logits [B, actions],
//                                                              value [B])
// Attributes (docs/export.md): game, blocks, filters, observation_planes,
// observation_height, observation_width, observation_layout_version, num_actions, step,
// weight_version. Parameters and buffers keep the checkpoint's names with '.' -> '_'.
//
// THIS HEADER IS TORCH-FREE; the .cc includes LibTorch.
#pragma once

#include <string>

#include "common/export/export_info.h"

namespace rz {

// The module as torch::jit::Module::save writes it (a zip archive), ready to be written to
// a file. Throws std::runtime_error (one line) when LibTorch refuses it.
std::string torchscript_module(const ExportedNetwork& net);

}  // namespace rz
