// ringzero-bench-trajectory: what a record costs the actor (encode) and the learner
// (validate + decode), on real self-play games, next to its physical references measured
// in the same run: memcpy of the same bytes, and the bare replay of the same actions
// (new_initial_state + apply, which decoding must do anyway to check legality).
//
//   ringzero-bench-trajectory [--game connect4] [--games 200] [--seconds 2]
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/game.h"
#include "common/mcts/rollout_evaluator.h"
#include "common/mcts/selfplay.h"
#include "common/trajectory.h"

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

namespace {

// Runs `body` repeatedly for about `seconds`; returns seconds per call.
template <typename Body>
double time_per_call(double seconds, Body body) {
  uint64_t calls = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < 16; ++i) body();
    calls += 16;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return elapsed / double(calls);
}

int run(int argc, char** argv) {
  rz::RoleOptions role("bench-trajectory", "ringzero-bench-trajectory [--games N] [--seconds S]");
  role.flags.add_options()("games", po::value<int>()->default_value(200), "self-play games")(
      "seconds", po::value<double>()->default_value(1.0), "seconds per measurement");
  po::variables_map flags;
  const rz::RunConfig config = rz::parse_config_or_exit(argc, argv, role, &flags);
  const int want = std::max(1, flags["games"].as<int>());
  const double seconds = std::max(0.05, flags["seconds"].as<double>());

  // Real games: the configured search (rollout evaluator instead of a network: the record
  // only depends on the search's output, and this keeps the benchmark torch-free).
  const auto game = rz::make_game(config.game);
  rz::RolloutEvaluator evaluator(*game, 1);
  rz::MctsConfig mcts = config.mcts;
  mcts.simulations = std::min(mcts.simulations, 64);
  rz::SelfPlayDriver driver(*game, evaluator, mcts, 16, 1);
  std::vector<rz::FinishedGame> games;
  while (static_cast<int>(games.size()) < want) driver.run_round(&games);

  const rz::TrajectoryOrigin origin{rz::game_spec_hash(game->spec()), 0, 0};
  std::vector<std::vector<uint8_t>> records(games.size());
  size_t bytes = 0, positions = 0, visit_entries = 0;
  for (size_t i = 0; i < games.size(); ++i) {
    rz::encode_trajectory(games[i], origin, &records[i]);
    bytes += records[i].size();
    positions += games[i].positions.size();
    for (const auto& p : games[i].positions) visit_entries += p.visits.size();
  }

  std::vector<uint8_t> buffer;
  size_t next = 0;
  const double encode_s = time_per_call(seconds, [&] {
    rz::encode_trajectory(games[next], origin, &buffer);
    next = (next + 1) % games.size();
  });
  next = 0;
  const double decode_s = time_per_call(seconds, [&] {
    auto d = rz::decode_trajectory(records[next].data(), records[next].size(), *game);
    next = (next + 1) % games.size();
  });
  next = 0;
  std::vector<uint8_t> copy(1 << 20);
  const double memcpy_s = time_per_call(seconds, [&] {
    std::memcpy(copy.data(), records[next].data(), records[next].size());
    asm volatile("" ::"r"(copy.data()) : "memory");
    next = (next + 1) % games.size();
  });
  next = 0;
  const double replay_s = time_per_call(seconds, [&] {
    auto state = game->new_initial_state();
    for (const auto& p : games[next].positions) state->apply(p.action);
    asm volatile("" ::"r"(state.get()) : "memory");
    next = (next + 1) % games.size();
  });

  const double per_game_bytes = double(bytes) / games.size();
  const double per_game_pos = double(positions) / games.size();
  fmt::print(
      "game {}: {} games, {:.1f} positions and {:.0f} bytes per record "
      "({:.1f} bytes/position, {:.1f} visited children/position)\n",
      game->spec(), games.size(), per_game_pos, per_game_bytes, double(bytes) / positions,
      double(visit_entries) / positions);
  fmt::print("encode          {:8.2f} us/record  {:7.1f} ns/position  {:6.2f} GB/s\n",
             encode_s * 1e6, encode_s * 1e9 / per_game_pos, per_game_bytes / encode_s / 1e9);
  fmt::print("decode+validate {:8.2f} us/record  {:7.1f} ns/position  {:6.2f} GB/s\n",
             decode_s * 1e6, decode_s * 1e9 / per_game_pos, per_game_bytes / decode_s / 1e9);
  fmt::print("reference: memcpy of the record     {:8.3f} us/record  {:6.2f} GB/s\n",
             memcpy_s * 1e6, per_game_bytes / memcpy_s / 1e9);
  fmt::print("reference: bare replay of the moves {:8.2f} us/record  {:7.1f} ns/position\n",
             replay_s * 1e6, replay_s * 1e9 / per_game_pos);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return rz::run_main("ringzero-bench-trajectory", [&] { return run(argc, argv); });
}
