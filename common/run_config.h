// RunConfig: the one set of options every ringzero process reads, as plain structs.
//
// Every role (actor, learner, launch, monitor, eval) runs from the same options, so a run is
// described by one file, RUN/config.ini. This header is what code that RUNS from a
// configuration needs: the structs, their cross-option checks (validate) and the values derived
// from them (the segment name, the actor count, the stats slots). It has no Boost on purpose:
// most of the tree only reads a RunConfig, and none of it should compile Boost.Program_options
// for that. Where a RunConfig comes from and goes to is elsewhere:
//   common/config_options.h  the option table (names, ranges, help, game-dependent defaults)
//                            and the INI text it writes (to_ini, write_config_atomically);
//   common/config.h          the parsers: command line + --config file, --help, role flags
//                            (Boost.Program_options), and reading INI text or a file back.
// learning_rate_at() and parse_lr_schedule(): common/run_schedule.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "common/mcts/mcts_config.h"
#include "common/net/net_config.h"

namespace rz {

// Bad configuration: a one-line message naming the option, the value and the allowed range. A
// user error: mains exit with kExitUserError (common/error.h).
struct ConfigError : UserError {
  using UserError::UserError;
};

struct ActorConfig {
  int games_in_flight = 64;        // games one actor plays at once (one batched forward per round)
  int threads = 1;                 // CPU threads of the actor's network (torch intra-op, BLAS)
  std::string precision = "auto";  // network forward: auto (measured at start-up), fp32, bf16
  int eval_cache_mib = 32;         // evaluation cache per actor, MiB (0 = off)
};

struct LearnerConfig {
  int batch_size = 256;
  double lr = 0.02;
  // "" = constant lr; "at:rate,at:rate" = lr becomes `rate` from `at` on: `at` a learner
  // step, or a fraction of the run in (0, 1) with run.minutes (common/run_schedule.h).
  std::string lr_schedule;
  double momentum = 0.9;
  double weight_decay = 1e-4;
  int64_t replay_positions = 100000;  // replay window, in positions
  int64_t min_replay = 2000;          // positions in the buffer before training starts
  // Rate limiter: train at most this many samples per position received (0 = unlimited).
  double samples_per_position = 4.0;
  // Value target = (1 - w) * game outcome z + w * the search's root value q for the mover
  // (Oracle's "Lessons from AlphaZero", part 4, averaged z and q: w = 0.5). 0 = AlphaZero's z.
  double value_target_q = 0.0;
  int64_t publish_every = 50;        // steps between weight publications
  int64_t checkpoint_every = 500;    // steps between checkpoints
  int64_t checkpoint_seconds = 120;  // also checkpoint after this long (0 = steps only)
  int keep_checkpoints = 3;
  double metrics_seconds = 5.0;  // period of RUN/metrics.csv rows and log lines
  int threads = 1;
  std::string device = "auto";  // auto | cpu | cuda | cuda:N
  int64_t max_steps = 0;        // stop after this many steps (0 = unlimited)
};

struct LaunchConfig {
  int actors = 0;  // 0 = cores - 1, at least 1; see effective_actor_count()
  int restart_backoff_ms = 1000;
  int max_restarts = 5;             // restarts of one process within restart_window_s ...
  int restart_window_s = 60;        // ... beyond which the supervisor gives up (crash loop)
  int learner_stop_timeout_s = 30;  // SIGTERM -> SIGKILL grace for the learner
};

struct ShmConfig {
  std::string name;  // POSIX shm name "/..."; derived from run.dir when empty
  uint64_t lane_bytes = 8ull << 20;
  uint64_t max_record_bytes = 1ull << 20;
  uint64_t weight_bytes = 0;  // 0 = computed from the network size + header
  int stats_slots = 64;
};

// The live evaluator (ringzero-eval live, docs/evaluation.md).
struct EvalConfig {
  bool enabled = true;  // the supervisor runs one evaluator at low priority
  int sims = 200;       // MCTS simulations of the network agent
  int games = 20;       // arena games per evaluation (both colours alternate)
  int every_versions = 10;
  int opponent_sims = 200;  // the opponent: plain MCTS with random rollouts
  // A second arena, eval.games games against a stronger rollout MCTS (0 = none). Game-dependent:
  // 1000 for the games without a solver-labelled test set (tic-tac-toe, Dots and Boxes),
  // 0 for Connect Four (its move accuracy measures it; the arena would cost minutes).
  int strong_opponent_sims = 1000;
  // Connect Four move accuracy: a Pons position file; "auto" = the shared Test_L3_R1 if it
  // exists, "" = no accuracy test.
  std::string accuracy_positions = "auto";
  int accuracy_limit = 200;  // first positions of the file labelled and tested
  // The early/middle-game set (8-30 stones, tests/data/README.md), measured beside it: "auto" =
  // the checkout's tests/data/connect4_early_middle, "" = none. Its first positions cycle
  // through the stone counts, so the first 200 sample every count.
  std::string early_middle_positions = "auto";
  int early_middle_limit = 200;
};

// Scale-out over Redis Streams (docs/scale-out.md). All empty: a single-host run, no Redis.
struct ScaleConfig {
  std::string serve;        // learner host: HOST:PORT its redis-server listens on
  std::string secret_file;  // the shared secret (learner host: RUN/secret when generated)
  std::string learner;      // actor host (join): the learner host's HOST:PORT
  std::string host_id;      // actor host (join): this host's id, unique among the joins
};

struct RunConfig {
  std::string game = "connect4";  // game spec, canonicalised by make_game(spec)->spec()
  uint64_t seed = 0;              // 0 = random (see resolve_random_seed)
  std::string run_dir;            // run.dir
  // run.minutes: the run ends itself after this much training time (final checkpoint, clean
  // stop); 0 = until stopped. Counted over restarts and resumes (common/run_clock.h).
  double minutes = 0;
  NetConfig net;
  MctsConfig mcts;
  ActorConfig actor;
  LearnerConfig learner;
  LaunchConfig launch;
  ShmConfig shm;
  EvalConfig eval;
  ScaleConfig scale;
};

// Checks cross-option constraints (also done by the parsers). Throws ConfigError.
void validate(const RunConfig& config);

// "/ringzero-" + 16 hex digits of a hash of the absolute, normalised run directory:
// 26 characters, within the portable 31, and the same for every process of one run.
std::string default_shm_name(const std::string& run_dir);

// seed 0 means "random": replaces it by a fresh non-zero seed so that the written config
// reproduces the run. Leaves a non-zero seed alone.
void resolve_random_seed(RunConfig* config);

// launch.actors, with 0 replaced by (hardware threads - 1), at least 1.
int effective_actor_count(const RunConfig& config);

// The most actor processes a run can have: the learner's replay window interleaves at most
// 256 lanes (learner/replay_window.cc).
constexpr int kMaxActors = 256;
// Stats slots beyond one per process (actors, learner, evaluator, supervisor).
constexpr int kSpareStatsSlots = 2;
// Longest run directory path: the segment keeps it in its 1 KiB run_info with the game and
// the generation (shm::kMaxRunInfoBytes), and config.ini must name it.
constexpr size_t kMaxRunDirBytes = 900;
// The least shm.stats_slots a run with this configuration works with.
int stats_slots_needed(const RunConfig& config);

}  // namespace rz
