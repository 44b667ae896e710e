// rz-export-reference CKPT COUNT SEED OUT [MOVES]: what LibTorch's PolicyValueNet (the
// network the learner trains and the actors run) outputs for COUNT real positions of the
// checkpoint's game, reached by random play from the initial state (seeded). MOVES, if given,
// receives each position but the empty board as its move string, one per line (the
// `ringzero-eval moves` input;
// games whose actions are one character each: Connect Four, tic-tac-toe). The Python checks
// (check_export.py) feed the same observations to the exported TorchScript module and ONNX
// model and compare. OUT, little-endian: int64 count, planes, height, width, actions; then
// float32 observations [count, planes, height, width], logits [count, actions], values [count].
#include <fmt/format.h>
#include <torch/utils.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/export/export_info.h"
#include "common/game.h"
#include "common/net/network.h"

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: rz-export-reference CKPT COUNT SEED OUT [MOVES]\n");
    return 2;
  }
  try {
    const rz::ExportedNetwork file = rz::read_exported_network(argv[1]);
    const int64_t count = std::stoll(argv[2]);
    std::mt19937_64 rng(std::stoull(argv[3]));
    const auto game = rz::make_game(file.game_spec);
    auto net = rz::make_network(*game, file.config);
    rz::network_from_blob(net, file.blob.data(), file.blob.size());
    net->eval();
    const rz::ObservationShape o = game->observation_shape();
    std::vector<float> obs(static_cast<size_t>(count) * o.size());
    std::string move_lines;
    for (int64_t i = 0; i < count; ++i) {
      // A random non-terminal position: a random number of random moves, stopping early
      // rather than reaching the end.
      auto state = game->new_initial_state();
      std::string played;
      const int moves = static_cast<int>(rng() % game->max_game_length());
      for (int k = 0; k < moves; ++k) {
        const auto legal = state->legal_actions();
        const rz::Action a = legal[rng() % legal.size()];
        auto next = state->clone();
        next->apply(a);
        if (next->is_terminal()) break;
        state = std::move(next);
        const std::string text = game->action_to_string(a);
        if (text.size() != 1)
          throw std::runtime_error("MOVES needs a game whose actions are one character each");
        played += text;
      }
      state->observe(obs.data() + i * o.size());
      if (!played.empty()) move_lines += played + "\n";  // eval's files cannot hold the empty board
    }
    torch::NoGradGuard no_grad;
    const auto x = torch::from_blob(obs.data(), {count, o.planes, o.height, o.width});
    const auto [logits, value] = net->forward(x);
    std::ofstream out(argv[4], std::ios::binary);
    const int64_t header[5] = {count, o.planes, o.height, o.width, game->num_actions()};
    out.write(reinterpret_cast<const char*>(header), sizeof header);
    out.write(reinterpret_cast<const char*>(obs.data()), obs.size() * 4);
    out.write(reinterpret_cast<const char*>(logits.contiguous().data_ptr<float>()),
              logits.numel() * 4);
    out.write(reinterpret_cast<const char*>(value.contiguous().data_ptr<float>()),
              value.numel() * 4);
    if (!out) throw std::runtime_error(fmt::format("cannot write '{}'", argv[4]));
    if (argc == 6 && !(std::ofstream(argv[5]) << move_lines))
      throw std::runtime_error(fmt::format("cannot write '{}'", argv[5]));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rz-export-reference: %s\n", e.what());
    return 1;
  }
}
