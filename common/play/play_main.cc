// ringzero-play: a person plays the agent in the terminal.
//
// The story: read the command line; find the network (a run's newest valid checkpoint, a
// checkpoint file or a weight blob); its header names the game and the network shape, so
// build that game and a NetEvaluator for it; then one TerminalMatch on stdin/stdout. Every
// start-up problem is one line on stderr and a non-zero exit (2: usage, a rz::UserError;
// 1: files and anything else).
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/checkpoint_file.h"
#include "common/error.h"
#include "common/eval/network_file.h"
#include "common/game.h"
#include "common/net/weight_blob.h"
#include "common/play/agent_move.h"
#include "common/play/play_options.h"
#include "common/play/terminal_match.h"

namespace {

struct LoadedNetwork {
  rz::NetworkFile file;
  std::string origin;  // "step 120, weight version 12" for a checkpoint
};

LoadedNetwork from_checkpoint(const std::string& path) {
  const rz::CheckpointInfo info = rz::read_checkpoint(path);  // validates the checksum
  LoadedNetwork net;
  net.file.path = path;
  net.file.blob = info.weights;
  try {
    net.file.header = rz::parse_weight_blob_header(net.file.blob.data(), net.file.blob.size());
  } catch (const rz::WeightBlobError& e) {
    throw std::runtime_error(
        fmt::format("checkpoint '{}' holds a damaged network: {}", path, e.what()));
  }
  if (net.file.header.game_spec != info.game_spec)
    throw std::runtime_error(fmt::format(
        "checkpoint '{}' says game '{}' but its network is for '{}': the file is inconsistent, "
        "use another checkpoint",
        path, info.game_spec, net.file.header.game_spec));
  net.origin = fmt::format("step {}, weight version {}", info.step, info.weight_version);
  return net;
}

LoadedNetwork from_run_dir(const std::string& run_dir) {
  struct stat st;
  if (::stat(run_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::runtime_error(fmt::format(
        "run directory '{}' does not exist: pass the --run-dir that launch.sh start used",
        run_dir));
  // The learner prunes old checkpoints while it runs: if the newest valid one disappears
  // between finding and reading it, look again.
  for (int attempt = 0;; ++attempt) {
    const std::string path = rz::latest_valid_checkpoint(run_dir);
    if (path.empty())
      throw std::runtime_error(
          fmt::format("no valid checkpoint in {}: wait for the learner's first checkpoint "
                      "(learner.checkpoint_every) or pass --checkpoint/--weights",
                      rz::checkpoint_dir(run_dir)));
    try {
      return from_checkpoint(path);
    } catch (const rz::CheckpointError&) {
      if (attempt == 2) throw;
    }
  }
}

LoadedNetwork load_network(const rz::PlayOptions& o) {
  if (!o.run_dir.empty()) return from_run_dir(o.run_dir);
  if (!o.checkpoint.empty()) return from_checkpoint(o.checkpoint);
  LoadedNetwork net;
  net.file = rz::read_network_file(o.weights);  // a blob (or a checkpoint, which also works)
  net.origin = "weight blob";
  return net;
}

}  // namespace

int main(int argc, char** argv) {
  // A closed reader of our output must cost a lost line (EPIPE), not the process (SIGPIPE).
  ::signal(SIGPIPE, SIG_IGN);
  return rz::run_main("ringzero-play", [&] {
    const rz::PlayOptions options = rz::parse_play_options(argc, argv);
    if (options.help) {
      std::fputs(rz::play_usage(), stdout);
      return 0;
    }
    const LoadedNetwork net = load_network(options);
    const auto game = rz::make_game(net.file.header.game_spec);
    const auto evaluator = rz::make_network_evaluator(net.file, *game);
    std::cout << fmt::format("ringzero-play: {} against network {} from {} ({}); {}.\n",
                             game->name(), net.file.header.description(), net.file.path, net.origin,
                             options.simulations > 0
                                 ? fmt::format("{} simulations per move", options.simulations)
                                 : std::string("raw policy, no search"));
    rz::AgentMover agent(*game, *evaluator, options.simulations, options.seed);
    rz::TerminalMatch match(*game, agent, options.human_player, std::cin, std::cout,
                            /*echo_input=*/!::isatty(STDIN_FILENO));
    match.play();
    return 0;
  });
}
