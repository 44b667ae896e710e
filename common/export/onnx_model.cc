#include "common/export/onnx_model.h"

#include <fmt/format.h>

#include <vector>

#include "common/protobuf_writer.h"

namespace rz {
namespace {

// onnx.proto field numbers and enum values used below.
enum : int { kTensorFloat = 1, kTensorInt64 = 7 };
enum : int { kAttrFloat = 1, kAttrInt = 2, kAttrInts = 7 };
constexpr int kOpset = 17;
constexpr int kIrVersion = 8;               // the IR version that opset 17 belongs to
constexpr float kBatchNormEpsilon = 1e-5f;  // torch::nn::BatchNorm2d's default

class GraphBuilder {
 public:
  explicit GraphBuilder(const ExportedNetwork& net) : net_(net) {}

  // Adds the blob tensor `name` as an initializer (once) and returns its name.
  std::string weight(const std::string& name) {
    for (const auto& w : added_)
      if (w == name) return name;
    const BlobTensor& t = net_.tensor(name);
    ProtoWriter tensor;
    for (int64_t d : t.shape) tensor.varint(1, d);
    tensor.varint(2, kTensorFloat).bytes(8, name).bytes(9, net_.data(t), t.bytes);
    graph_.message(5, tensor);
    added_.push_back(name);
    return name;
  }

  void int64_constant(const std::string& name, const std::vector<int64_t>& values) {
    ProtoWriter tensor;
    tensor.varint(1, static_cast<int64_t>(values.size()));
    tensor.varint(2, kTensorInt64).bytes(8, name).bytes(9, values.data(), values.size() * 8);
    graph_.message(5, tensor);
  }

  // One node; returns its (single) output's name.
  std::string node(const std::string& op, const std::vector<std::string>& inputs,
                   std::vector<ProtoWriter> attributes = {}, std::string output = "") {
    if (output.empty()) output = fmt::format("t{}", ++counter_);
    ProtoWriter n;
    for (const auto& in : inputs) n.bytes(1, in);
    n.bytes(2, output).bytes(3, fmt::format("{}_{}", op, ++nodes_)).bytes(4, op);
    for (const auto& a : attributes) n.message(5, a);
    graph_.message(1, n);
    return output;
  }

  static ProtoWriter int_attr(const std::string& name, int64_t v) {
    ProtoWriter a;
    a.bytes(1, name).varint(20, kAttrInt).varint(3, v);
    return a;
  }
  static ProtoWriter ints_attr(const std::string& name, const std::vector<int64_t>& v) {
    ProtoWriter a;
    a.bytes(1, name).varint(20, kAttrInts);
    for (int64_t x : v) a.varint(8, x);
    return a;
  }
  static ProtoWriter float_attr(const std::string& name, float v) {
    ProtoWriter a;
    a.bytes(1, name).varint(20, kAttrFloat).float_field(2, v);
    return a;
  }

  // conv (no bias, "same" padding) -> batch norm, optionally -> relu.
  std::string conv_bn(const std::string& x, const std::string& conv, const std::string& bn,
                      bool relu) {
    const BlobTensor& w = net_.tensor(conv + ".weight");
    const int64_t k = w.shape.at(2), pad = k / 2;
    std::string y = node("Conv", {x, weight(conv + ".weight")},
                         {ints_attr("kernel_shape", {k, k}),
                          ints_attr("pads", {pad, pad, pad, pad}), ints_attr("strides", {1, 1})});
    y = node("BatchNormalization",
             {y, weight(bn + ".weight"), weight(bn + ".bias"), weight(bn + ".running_mean"),
              weight(bn + ".running_var")},
             {float_attr("epsilon", kBatchNormEpsilon)});
    return relu ? node("Relu", {y}) : y;
  }

  std::string linear(const std::string& x, const std::string& fc, std::string output = "") {
    return node("Gemm", {x, weight(fc + ".weight"), weight(fc + ".bias")}, {int_attr("transB", 1)},
                std::move(output));
  }

  static ProtoWriter value_info(const std::string& name, const std::vector<int64_t>& dims) {
    ProtoWriter shape;
    for (int64_t d : dims) {
      ProtoWriter dim;
      if (d < 0)
        dim.bytes(2, "batch");  // dynamic
      else
        dim.varint(1, d);
      shape.message(1, dim);
    }
    ProtoWriter tensor_type, type, info;
    tensor_type.varint(1, kTensorFloat).message(2, shape);
    type.message(1, tensor_type);
    info.bytes(1, name).message(2, type);
    return info;
  }

  ProtoWriter& graph() { return graph_; }

 private:
  const ExportedNetwork& net_;
  ProtoWriter graph_;
  std::vector<std::string> added_;
  int counter_ = 0;  // intermediate values t1, t2, ...
  int nodes_ = 0;
};

}  // namespace

std::string onnx_model(const ExportedNetwork& net) {
  GraphBuilder g(net);
  std::string h = g.conv_bn("observation", "stem_conv", "stem_bn", true);
  for (int i = 0; i < net.config.blocks; ++i) {
    const std::string b = fmt::format("block{}", i);
    std::string y = g.conv_bn(h, b + ".conv1", b + ".bn1", true);
    y = g.conv_bn(y, b + ".conv2", b + ".bn2", false);
    h = g.node("Relu", {g.node("Add", {y, h})});
  }
  std::string p = g.conv_bn(h, "policy_conv", "policy_bn", true);
  p = g.node("Flatten", {p}, {GraphBuilder::int_attr("axis", 1)});
  g.linear(p, "policy_fc", "policy_logits");
  std::string v = g.conv_bn(h, "value_conv", "value_bn", true);
  v = g.node("Flatten", {v}, {GraphBuilder::int_attr("axis", 1)});
  v = g.node("Relu", {g.linear(v, "value_fc1")});
  v = g.node("Tanh", {g.linear(v, "value_fc2")});
  g.int64_constant("value_shape", {-1});
  g.node("Reshape", {v, "value_shape"}, {}, "value");

  const ObservationShape& o = net.observation;
  g.graph().bytes(2, "ringzero_" + net.game_spec);
  g.graph().message(11, GraphBuilder::value_info("observation", {-1, o.planes, o.height, o.width}));
  g.graph().message(12, GraphBuilder::value_info("policy_logits", {-1, net.num_actions}));
  g.graph().message(12, GraphBuilder::value_info("value", {-1}));

  ProtoWriter opset;
  opset.bytes(1, "").varint(2, kOpset);
  ProtoWriter model;
  model.varint(1, kIrVersion)
      .bytes(2, "ringzero")
      .bytes(3, "1")
      .bytes(6, fmt::format("ringzero {} {} network, checkpoint step {}, weight version {}; "
                            "see docs/export.md",
                            net.game_spec, net.config.shape_string(), net.step, net.weight_version))
      .message(7, g.graph())
      .message(8, opset);
  const std::pair<std::string, std::string> metadata[] = {
      {"game", net.game_spec},
      {"blocks", std::to_string(net.config.blocks)},
      {"filters", std::to_string(net.config.filters)},
      {"observation_planes", std::to_string(o.planes)},
      {"observation_height", std::to_string(o.height)},
      {"observation_width", std::to_string(o.width)},
      {"observation_layout_version", std::to_string(kObservationLayoutVersion)},
      {"num_actions", std::to_string(net.num_actions)},
      {"step", std::to_string(net.step)},
      {"weight_version", std::to_string(net.weight_version)}};
  for (const auto& [key, value] : metadata) {
    ProtoWriter entry;
    entry.bytes(1, key).bytes(2, value);
    model.message(14, entry);
  }
  return model.data();
}

}  // namespace rz
