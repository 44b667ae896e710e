#include "common/export/torchscript_model.h"

#include <fmt/format.h>
#include <torch/script.h>

#include <sstream>
#include <stdexcept>
#include <string_view>

#include "common/net/network.h"

namespace rz {
namespace {

static_assert(std::string_view(kNetworkArchitecture) == std::string_view(kExportedArchitecture),
              "the exporters restate rz-resnet-v1: update common/export/ with the architecture");

std::string attr_name(std::string name) {
  for (char& c : name)
    if (c == '.') c = '_';
  return name;
}

bool is_buffer(const std::string& name) {
  auto ends_with = [&](std::string_view s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return ends_with(".running_mean") || ends_with(".running_var");
}

// TorchScript for conv (no bias, "same" padding) -> batch norm (inference) [-> relu].
std::string conv_bn(const std::string& x, const std::string& conv, const std::string& bn,
                    int64_t kernel, bool relu) {
  const int64_t pad = kernel / 2;
  const std::string c = attr_name(conv), b = attr_name(bn);
  std::string y =
      fmt::format("torch.conv2d({}, self.{}_weight, None, [1, 1], [{}, {}])", x, c, pad, pad);
  y = fmt::format(
      "torch.batch_norm({}, self.{}_weight, self.{}_bias, self.{}_running_mean, "
      "self.{}_running_var, False, 0.1, 1e-05, True)",
      y, b, b, b, b);
  return relu ? "torch.relu(" + y + ")" : y;
}

std::string forward_source(const ExportedNetwork& net) {
  auto kernel = [&](const std::string& conv) { return net.tensor(conv + ".weight").shape.at(2); };
  std::ostringstream s;
  s << "def forward(self, observation: Tensor) -> Tuple[Tensor, Tensor]:\n";
  s << "    h = " << conv_bn("observation", "stem_conv", "stem_bn", kernel("stem_conv"), true)
    << "\n";
  for (int i = 0; i < net.config.blocks; ++i) {
    const std::string b = fmt::format("block{}", i);
    s << "    y = " << conv_bn("h", b + ".conv1", b + ".bn1", kernel(b + ".conv1"), true) << "\n";
    s << "    y = " << conv_bn("y", b + ".conv2", b + ".bn2", kernel(b + ".conv2"), false) << "\n";
    s << "    h = torch.relu(y + h)\n";
  }
  s << "    p = torch.flatten("
    << conv_bn("h", "policy_conv", "policy_bn", kernel("policy_conv"), true) << ", 1)\n";
  s << "    logits = torch.addmm(self.policy_fc_bias, p, self.policy_fc_weight.t())\n";
  s << "    v = torch.flatten("
    << conv_bn("h", "value_conv", "value_bn", kernel("value_conv"), true) << ", 1)\n";
  s << "    v = torch.relu(torch.addmm(self.value_fc1_bias, v, self.value_fc1_weight.t()))\n";
  s << "    v = torch.tanh(torch.addmm(self.value_fc2_bias, v, self.value_fc2_weight.t()))\n";
  s << "    return logits, v.reshape([-1])\n";
  return s.str();
}

}  // namespace

std::string torchscript_module(const ExportedNetwork& net) {
  torch::jit::Module m(c10::QualifiedName("RingZeroNet"));
  for (const BlobTensor& t : net.header.tensors) {
    if (t.dtype != BlobDType::kFloat32) continue;  // num_batches_tracked: training only
    torch::Tensor data =
        torch::from_blob(const_cast<float*>(net.data(t)), t.shape, torch::kFloat32).clone();
    if (is_buffer(t.name))
      m.register_buffer(attr_name(t.name), data);
    else
      m.register_parameter(attr_name(t.name), data, /*is_buffer=*/false);
  }
  auto int_attr = [&](const std::string& name, int64_t v) {
    m.register_attribute(name, c10::IntType::get(), v);
  };
  m.register_attribute("game", c10::StringType::get(), net.game_spec);
  int_attr("blocks", net.config.blocks);
  int_attr("filters", net.config.filters);
  int_attr("observation_planes", net.observation.planes);
  int_attr("observation_height", net.observation.height);
  int_attr("observation_width", net.observation.width);
  int_attr("observation_layout_version", kObservationLayoutVersion);
  int_attr("num_actions", net.num_actions);
  int_attr("step", net.step);
  int_attr("weight_version", net.weight_version);
  try {
    m.define(forward_source(net));
    m.eval();
    std::ostringstream out;
    m.save(out);
    return out.str();
  } catch (const c10::Error& e) {
    throw std::runtime_error(fmt::format("cannot build the TorchScript module of '{}': {}",
                                         net.checkpoint_path, e.what_without_backtrace()));
  }
}

}  // namespace rz
