// The network and its weight blob, on small networks (fast): a blob carries every parameter
// and buffer exactly, and anything else (another game or shape, a damaged or truncated blob)
// is refused with a one-line error and leaves the network as it was.
#include <torch/utils.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "common/game.h"
#include "common/net/network.h"
#include "common/net/weight_blob.h"

namespace rz {
namespace {

torch::Tensor random_input(const Game& game, int batch, uint64_t seed) {
  seed_network_init(seed);
  const ObservationShape s = game.observation_shape();
  // Board-like 0/1 planes.
  return (torch::rand({batch, s.planes, s.height, s.width}) > 0.5).to(torch::kFloat32);
}

PolicyValueNet seeded(const Game& game, const NetConfig& c, uint64_t seed) {
  seed_network_init(seed);
  auto net = make_network(game, c);
  net->eval();
  return net;
}

std::pair<torch::Tensor, torch::Tensor> eval_forward(PolicyValueNet& net, const torch::Tensor& x) {
  torch::NoGradGuard g;
  net->eval();
  return net->forward(x);
}

bool same_outputs(PolicyValueNet& a, PolicyValueNet& b, const torch::Tensor& x) {
  auto [pa, va] = eval_forward(a, x);
  auto [pb, vb] = eval_forward(b, x);
  return torch::equal(pa, pb) && torch::equal(va, vb);
}

std::string load_error(PolicyValueNet& net, const std::vector<uint8_t>& blob) {
  try {
    network_from_blob(net, blob.data(), blob.size());
  } catch (const WeightBlobError& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("network output shapes follow the game", "[net]") {
  auto game = make_game("connect4");
  auto net = seeded(*game, NetConfig{2, 16}, 1);
  auto [logits, value] = eval_forward(net, random_input(*game, 5, 2));
  CHECK(logits.sizes().vec() == std::vector<int64_t>({5, 7}));
  CHECK(value.sizes().vec() == std::vector<int64_t>{5});
  CHECK(value.abs().max().item<float>() < 1.0f);
}

TEST_CASE("blob round trip reproduces outputs bit for bit, batch-norm statistics included",
          "[net][blob]") {
  auto game = make_game("connect4");
  const NetConfig c{2, 16};
  auto a = seeded(*game, c, 1);
  // A forward in train mode moves the batch-norm running statistics away from their
  // initial (0, 1): those buffers must travel in the blob, not only the parameters.
  a->train();
  {
    torch::NoGradGuard g;
    a->forward(random_input(*game, 16, 3) * 3.0f + 1.0f);
  }
  a->eval();
  const auto blob = network_to_blob(a);

  auto b = seeded(*game, c, 2);
  const auto x = random_input(*game, 9, 4);
  REQUIRE_FALSE(same_outputs(a, b, x));  // different seeds: the test can fail

  network_from_blob(b, blob.data(), blob.size(), a->layout_tag());
  CHECK(same_outputs(a, b, x));
  // Every buffer equal, not just the outputs.
  auto ba = a->named_buffers(), bb = b->named_buffers();
  REQUIRE(ba.size() == bb.size());
  for (size_t i = 0; i < ba.size(); ++i) CHECK(torch::equal(ba[i].value(), bb[i].value()));
  CHECK(bb["stem_bn.num_batches_tracked"].item<int64_t>() == 1);

  // A second blob of the loaded network is byte-identical to the first.
  CHECK(network_to_blob(b) == blob);
}

TEST_CASE("the blob header is readable without torch and describes the network", "[net][blob]") {
  auto game = make_game("tictactoe");
  auto net = seeded(*game, NetConfig{1, 8}, 1);
  const auto blob = network_to_blob(net);
  const WeightBlobHeader h = parse_weight_blob_header(blob.data(), blob.size());
  CHECK(h.game_spec == "tictactoe");
  CHECK(h.config == NetConfig({1, 8}));
  CHECK(h.architecture == kNetworkArchitecture);
  CHECK(h.layout_tag == net->layout_tag());
  CHECK(h.layout_tag == network_layout_tag(*game, NetConfig{1, 8}));
  CHECK(h.description() == "tictactoe 1x8");
  // Parameters and buffers: stem conv + bn(4 params... ) - just check a few names exist.
  bool saw_running_var = false;
  for (const auto& t : h.tensors) saw_running_var |= t.name == "block0.bn2.running_var";
  CHECK(saw_running_var);
}

TEST_CASE("layout tags differ between games and shapes", "[net][blob]") {
  auto c4 = make_game("connect4");
  auto ttt = make_game("tictactoe");
  CHECK(network_layout_tag(*c4, {2, 16}) == network_layout_tag(*c4, {2, 16}));
  CHECK(network_layout_tag(*c4, {2, 16}) != network_layout_tag(*c4, {3, 16}));
  CHECK(network_layout_tag(*c4, {2, 16}) != network_layout_tag(*c4, {2, 8}));
  CHECK(network_layout_tag(*c4, {2, 16}) != network_layout_tag(*ttt, {2, 16}));
}

TEST_CASE("a blob for another game or shape is refused with a one-line error", "[net][blob]") {
  auto c4 = make_game("connect4");
  auto ttt = make_game("tictactoe");
  auto target = seeded(*ttt, NetConfig{2, 8}, 1);
  const auto x = random_input(*ttt, 3, 5);
  auto before = seeded(*ttt, NetConfig{2, 8}, 1);

  auto other_game = seeded(*c4, NetConfig{2, 8}, 2);
  std::string e = load_error(target, network_to_blob(other_game));
  CHECK(e ==
        "weights are for connect4 2x8 but this network is tictactoe 2x8: use a checkpoint "
        "of the same game and network shape");

  auto other_shape = seeded(*ttt, NetConfig{1, 8}, 2);
  e = load_error(target, network_to_blob(other_shape));
  CHECK(e ==
        "weights are for tictactoe 1x8 but this network is tictactoe 2x8: use a checkpoint "
        "of the same game and network shape");
  CHECK(e.find('\n') == std::string::npos);
  CHECK(same_outputs(target, before, x));  // nothing was copied
}

TEST_CASE("a truncated or corrupted blob is refused, never loaded, never a crash", "[net][blob]") {
  auto game = make_game("tictactoe");
  auto target = seeded(*game, NetConfig{1, 4}, 1);
  auto before = seeded(*game, NetConfig{1, 4}, 1);
  auto source = seeded(*game, NetConfig{1, 4}, 2);
  const auto blob = network_to_blob(source);
  const auto x = random_input(*game, 3, 5);
  const uint64_t header_bytes = parse_weight_blob_header(blob.data(), blob.size()).payload_offset;

  SECTION("every truncation") {
    for (size_t n = 0; n < blob.size(); ++n) {
      std::vector<uint8_t> cut(blob.begin(), blob.begin() + n);
      const std::string e = load_error(target, cut);
      INFO("truncated to " << n << " bytes");
      REQUIRE_FALSE(e.empty());
    }
    std::vector<uint8_t> longer = blob;
    longer.push_back(0);
    CHECK_FALSE(load_error(target, longer).empty());
  }
  SECTION("every header byte flipped") {
    for (size_t i = 0; i < header_bytes; ++i) {
      std::vector<uint8_t> bad = blob;
      bad[i] ^= 0x40;
      INFO("header byte " << i);
      REQUIRE_FALSE(load_error(target, bad).empty());
    }
  }
  SECTION("payload bytes flipped") {
    for (size_t i = header_bytes; i < blob.size(); i += 7) {
      std::vector<uint8_t> bad = blob;
      bad[i] ^= 0x01;
      INFO("payload byte " << i);
      REQUIRE(load_error(target, bad).find("checksum") != std::string::npos);
    }
  }
  SECTION("not a blob at all") {
    std::vector<uint8_t> junk(200, 'x');
    CHECK(load_error(target, junk).find("not a ringzero weight blob") != std::string::npos);
  }
  CHECK(same_outputs(target, before, x));
}

}  // namespace
}  // namespace rz
