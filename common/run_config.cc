#include "common/run_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "common/hash.h"
#include "common/run_schedule.h"

namespace rz {

void validate(const RunConfig& c) {
  try {
    c.mcts.validate();
  } catch (const std::invalid_argument& e) {
    // "mcts: simulations=0 is ..." -> "option mcts.simulations=0 is ..."
    std::string msg = e.what();
    if (msg.rfind("mcts: ", 0) == 0) msg = "option mcts." + msg.substr(6);
    throw ConfigError(msg);
  }
  // No full search, no training target: the learner would wait for min_replay forever.
  if (c.mcts.full_search_prob <= 0.0f)
    throw ConfigError(fmt::format(
        "option mcts.full_search_prob={} is invalid for a run: no position would ever be a "
        "training target and the learner would never train; use a value in (0, 1]",
        c.mcts.full_search_prob));
  // The segment records the run directory in its 1 KiB run_info (shm/segment.h): checked
  // here, before anything is written, not when the segment is made.
  if (c.run_dir.size() > kMaxRunDirBytes)
    throw ConfigError(
        fmt::format("option run.dir is {} bytes long, the limit is {}: use a shorter --run-dir",
                    c.run_dir.size(), kMaxRunDirBytes));
  if (c.learner.min_replay > c.learner.replay_positions)
    throw ConfigError(fmt::format(
        "option learner.min_replay={} is invalid: use at most learner.replay_positions={}",
        c.learner.min_replay, c.learner.replay_positions));
  if (c.shm.lane_bytes % 64 != 0)
    throw ConfigError(
        fmt::format("option shm.lane_bytes={} is invalid: use a multiple of 64 (a cache line)",
                    c.shm.lane_bytes));
  // A lane must hold two maximum records with their 32-byte headers and 16-byte padding,
  // because a record never wraps around the end of a lane (shm/trajectory_ring.h).
  if (2 * (c.shm.max_record_bytes + 48) > c.shm.lane_bytes)
    throw ConfigError(fmt::format(
        "option shm.max_record_bytes={} is invalid: use at most shm.lane_bytes / 2 - 48 = {}",
        c.shm.max_record_bytes, c.shm.lane_bytes / 2 - 48));
  // Every process of the run takes a stats slot (StatsWriter refuses when none is free, and
  // the process would die at start): the actors, the learner, the evaluator (counted even
  // when off: --resume may turn it on), the supervisor, and a few spare. Checked once the
  // number of actors is known (launch.actors=0 is resolved by `start`, which checks again).
  if (c.launch.actors > 0 && c.shm.stats_slots < stats_slots_needed(c))
    throw ConfigError(fmt::format(
        "option shm.stats_slots={} is invalid: use at least {} (one per process: {} actor{} + "
        "learner + evaluator + supervisor, and {} spare)",
        c.shm.stats_slots, stats_slots_needed(c), effective_actor_count(c),
        effective_actor_count(c) == 1 ? "" : "s", kSpareStatsSlots));
  if (c.minutes == 0 && lr_schedule_is_fractional(c.learner.lr_schedule))
    throw ConfigError(fmt::format(
        "option learner.lr_schedule='{}' gives fractions of the run, which has no length: add "
        "--minutes M (run.minutes) or give learner steps instead",
        c.learner.lr_schedule));
  if (c.shm.weight_bytes != 0 && c.shm.weight_bytes < 4096)
    throw ConfigError(
        fmt::format("option shm.weight_bytes={} is invalid: use 0 (computed) or at least 4096",
                    c.shm.weight_bytes));
}

std::string default_shm_name(const std::string& run_dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(run_dir, ec);
  if (ec) p = run_dir;
  // weakly_canonical resolves symlinks of the existing prefix and removes "." / "..", so
  // "runs/x", "./runs/x/" and "/abs/runs/x" name the same segment.
  std::filesystem::path canon = std::filesystem::weakly_canonical(p, ec);
  if (ec) canon = p.lexically_normal();
  std::string s = canon.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return fmt::format("/ringzero-{:016x}", fnv1a64(s));
}

void resolve_random_seed(RunConfig* config) {
  if (config->seed != 0) return;
  std::random_device rd;
  uint64_t s = 0;
  while (s == 0) s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  config->seed = s;
}

int stats_slots_needed(const RunConfig& config) {
  return effective_actor_count(config) + 3 + kSpareStatsSlots;
}

int effective_actor_count(const RunConfig& config) {
  if (config.launch.actors > 0) return config.launch.actors;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores - 1);
}

}  // namespace rz
