// ringzero-export as a real process on real checkpoints: the TorchScript module it writes,
// loaded back with torch::jit::load, computes what PolicyValueNet computes on the same
// weights (every game, batch-norm statistics moved away from their initial values), carries
// its attributes, and bad input gets one line, a non-zero exit and no file.
// (The ONNX model and the Python side: tests/export/check_export.sh.)
#include <sys/stat.h>
#include <sys/wait.h>
#include <torch/script.h>
#include <torch/utils.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/checkpoint_file.h"
#include "common/game.h"
#include "common/net/network.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace rz {
namespace {

const std::string kExport = std::string(RZ_BINARY_DIR) + "/common/export/ringzero-export";

using testing::ChildResult;
using testing::read_file;
using Scratch = testing::TempDir;

// ringzero-export with `args` as a shell would split them; stdout and stderr apart.
ChildResult run_export(const std::string& args) {
  return testing::run_child({"/bin/sh", "-c", kExport + " " + args}, "", 600);
}

// A network whose every tensor is random, batch-norm running statistics included (variances
// positive), so that a mix-up of any two tensors in the export changes the outputs.
PolicyValueNet random_network(const Game& game, const NetConfig& config, uint64_t seed) {
  seed_network_init(seed);
  auto net = make_network(game, config);
  torch::NoGradGuard g;
  for (auto& p : net->named_parameters()) p.value().normal_(0, 0.3);
  for (auto& b : net->named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) b.value().normal_(0, 0.5);
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0);
  }
  net->eval();
  return net;
}

std::string write_checkpoint(PolicyValueNet& net, const std::string& path, uint64_t step,
                             uint64_t version) {
  const auto text = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  write_checkpoint_sections(path, {{"game_spec", text(net->game_spec())},
                                   {"net_shape", text(net->config().shape_string())},
                                   {"config", text("")},
                                   {"weights", network_to_blob(net)},
                                   {"step", u64_bytes(step)},
                                   {"weight_version", u64_bytes(version)}});
  return path;
}

int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("the exported TorchScript module computes what PolicyValueNet computes, for every game",
          "[export]") {
  const Scratch s("export-test");
  const std::string spec =
      GENERATE(as<std::string>{}, "connect4", "tictactoe", "dotsandboxes:rows=2,cols=3");
  INFO(spec);
  const auto game = make_game(spec);
  const NetConfig config{2, 8};
  auto net = random_network(*game, config, 11);
  const auto ckpt = write_checkpoint(net, s.file("net.rzck"), 1234, 56);
  const ChildResult r =
      run_export("--checkpoint " + ckpt + " --format torchscript --out " + s.file("net.pt"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(lines(r.out) == 1);
  struct stat st {};
  REQUIRE(::stat(s.file("net.pt").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  torch::jit::Module m = torch::jit::load(s.file("net.pt"));
  const ObservationShape o = game->observation_shape();
  CHECK(m.attr("game").toStringRef() == game->spec());
  CHECK(m.attr("step").toInt() == 1234);
  CHECK(m.attr("weight_version").toInt() == 56);
  CHECK(m.attr("num_actions").toInt() == game->num_actions());
  CHECK(m.attr("observation_planes").toInt() == o.planes);
  CHECK(m.attr("observation_height").toInt() == o.height);
  CHECK(m.attr("observation_width").toInt() == o.width);
  CHECK(m.attr("observation_layout_version").toInt() == 1);
  CHECK(m.attr("blocks").toInt() == 2);
  CHECK(m.attr("filters").toInt() == 8);

  seed_network_init(5);
  const auto x = (torch::rand({6, o.planes, o.height, o.width}) > 0.5).to(torch::kFloat32);
  torch::NoGradGuard g;
  const auto [logits, value] = net->forward(x);
  const auto out = m.forward({x}).toTuple();
  const auto jit_logits = out->elements()[0].toTensor(), jit_value = out->elements()[1].toTensor();
  REQUIRE(jit_logits.sizes() == logits.sizes());
  REQUIRE(jit_value.sizes() == value.sizes());
  CHECK((jit_logits - logits).abs().max().item<float>() < 1e-5f);
  CHECK((jit_value - value).abs().max().item<float>() < 1e-5f);
  // A different network gives different outputs: the comparison can fail.
  auto other = random_network(*game, config, 12);
  CHECK((other->forward(x).first - logits).abs().max().item<float>() > 1e-3f);
}

TEST_CASE("ringzero-export refuses bad input with one line and writes nothing", "[export]") {
  const Scratch s("export-test");
  const auto game = make_game("tictactoe");
  auto net = random_network(*game, NetConfig{1, 8}, 3);
  const auto good = write_checkpoint(net, s.file("good.rzck"), 10, 2);
  // A byte flipped in the middle: the whole-file checksum refuses it.
  std::string bytes = read_file(good);
  bytes[bytes.size() / 2] ^= 0x40;
  std::ofstream(s.file("flipped.rzck"), std::ios::binary) << bytes;
  std::ofstream(s.file("short.rzck"), std::ios::binary) << bytes.substr(0, 100);
  const std::string out = s.file("kept.onnx");
  std::ofstream(out) << "keep";

  struct Case {
    std::string args, says;
    int status;
  };
  const std::vector<Case> cases = {
      {"--checkpoint " + s.file("flipped.rzck") + " --format onnx --out " + out, "corrupt", 1},
      {"--checkpoint " + s.file("short.rzck") + " --format torchscript --out " + out, "rzck", 1},
      {"--checkpoint " + s.file("missing.rzck") + " --format onnx --out " + out, "missing.rzck", 1},
      {"--checkpoint " + good + " --format tflite --out " + out, "choose torchscript or onnx", 2},
      {"--checkpoint " + good + " --format onnx", "missing --out", 2},
      {"--checkpoint " + good + " --format onnx --out " + s.file("no/such/dir/x.onnx"),
       "writable --out", 1},
      {"--checkpoint " + good + " --format torchscript --out " + s.path(), "writable --out", 1},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    const ChildResult r = run_export(c.args);
    INFO(r.err);
    CHECK(r.status == c.status);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find(c.says) != std::string::npos);
    CHECK(r.out.empty());
  }
  CHECK(read_file(out) == "keep");  // an existing file is never half-replaced
  for (const auto& e : std::filesystem::directory_iterator(s.path()))
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
  // And the good checkpoint does export, over the old file.
  CHECK(run_export("--checkpoint " + good + " --format onnx --out " + out).status == 0);
  CHECK(read_file(out) != "keep");
}

}  // namespace rz
