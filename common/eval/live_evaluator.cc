#include "common/eval/live_evaluator.h"

#include "common/durable_file.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/eval/agent.h"
#include "common/eval/arena.h"
#include "common/eval/eval_csv.h"
#include "common/eval/move_accuracy.h"
#include "common/mcts/rollout_evaluator.h"
#include "common/net/net_evaluator.h"
#include "common/net/weight_blob.h"
#include "common/role_process.h"
#include "common/solver/connect4_solver.h"
#include "common/stat_names.h"
#include "common/tensorboard_log.h"
#include "shm/segment.h"
#include "shm/stats.h"
#include "shm/weight_slot.h"

namespace rz {

std::string resolve_accuracy_positions(const std::string& option,
                                       const std::string& shared_default) {
  if (option != "auto") return option;
  struct stat st {};
  return ::stat(shared_default.c_str(), &st) == 0 && S_ISREG(st.st_mode) ? shared_default : "";
}

namespace {

// Thrown from the arena's per-game callback to abandon an evaluation when the run stops.
struct StopRequested {};

// max_batch 8 = MctsConfig's default virtual_leaves: one forward pass per search step.
constexpr int kMaxBatch = 8;
// Positions measured between two stop checks / heartbeats.
constexpr int kAccuracyChunk = 20;

void log_line(const std::string& line) {
  std::fprintf(stderr, "ringzero-eval live: %s\n", line.c_str());
}

double epoch_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The evaluator's gauges, registered in this order (the monitor lists them so).
enum EvalGauge {
  kVersionGauge,
  kScoreGauge,
  kWinRateGauge,
  kEloGauge,
  kAccuracyPolicyGauge,
  kAccuracyMctsGauge,
  kEarlyPolicyGauge,
  kEarlyMctsGauge,
  kStrongScoreGauge,
  kGaugeCount
};
constexpr const char* kGaugeNames[kGaugeCount] = {
    stat::eval::kVersion,     stat::eval::kScore,          stat::eval::kWinRate,
    stat::eval::kElo,         stat::eval::kAccuracyPolicy, stat::eval::kAccuracyMcts,
    stat::eval::kEarlyPolicy, stat::eval::kEarlyMcts,      stat::eval::kStrongScore};

// The evaluator's stats slot and its metric handles.
struct EvalStats {
  explicit EvalStats(shm::Segment& segment) : writer(segment, shm::Role::kEvaluator, 0) {
    for (int g = 0; g < kGaugeCount; ++g) gauges[g] = writer.gauge(kGaugeNames[g]);
    evaluations = writer.metric(stat::eval::kEvaluations);
    games = writer.metric(stat::eval::kGames);
  }
  // Each gauge with its value in `row`; a measurement the row lacks (no accuracy set, no
  // stronger opponent) leaves its gauge as it was.
  void set_gauges(const EvalRow& row) {
    const std::optional<double> values[kGaugeCount] = {
        static_cast<double>(row.weight_version),
        row.score,
        row.win_rate,
        row.elo,
        row.policy_accuracy_optimal,
        row.mcts_accuracy_optimal,
        row.early_middle_policy_accuracy_optimal,
        row.early_middle_mcts_accuracy_optimal,
        row.strong_opponent_sims > 0 ? std::optional<double>(row.strong_score) : std::nullopt};
    for (int g = 0; g < kGaugeCount; ++g)
      if (values[g]) writer.set_gauge(gauges[g], *values[g]);
  }
  shm::StatsWriter writer;
  int gauges[kGaugeCount];
  int evaluations, games;
};

}  // namespace

bool evaluator_pid_running(pid_t pid) {
  // kill(pid, 0) == 0: a process we may signal. EPERM: a process of another user holds that
  // pid now (reused), not our evaluator.
  return pid > 0 && ::kill(pid, 0) == 0;
}

namespace {

// One evaluator per run: a second one would share the stats slot and double the work. The
// slot's pid is alive (and not ours) only while another evaluator runs; a crashed one left a
// dead pid, and its slot is reused as a restart.
void refuse_second_evaluator(const shm::Segment& segment) {
  for (const auto& slot : shm::read_stats(segment)) {
    if (slot.role != shm::Role::kEvaluator || slot.index != 0) continue;
    const pid_t pid = static_cast<pid_t>(slot.pid);
    if (slot.state == shm::ProcessState::kExited || pid <= 0 || pid == ::getpid()) return;
    if (evaluator_pid_running(pid))
      throw std::runtime_error(fmt::format(
          "another evaluator (pid {}) is already running for this run: stop it first, or "
          "start the run with --eval.enabled false to evaluate by hand",
          pid));
  }
}

// Copies `from` to `to` unless `to` exists (or `from` does not); best effort: a failed copy
// only means the labels are solved instead.
void seed_label_cache(const std::string& from, const std::string& to) {
  struct stat st {};
  if (::stat(to.c_str(), &st) == 0 || ::stat(from.c_str(), &st) != 0) return;
  if (!S_ISREG(st.st_mode) || st.st_size > (64 << 20)) return;  // not a label cache: solve
  std::ifstream in(from, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) return;
  try {
    write_file_durably(to, text.str());  // validated by load_or_solve_labels like any cache
  } catch (const DurableWriteError&) {
    // Then the labels are solved and cached the usual way.
  }
}

// The arena's score in the games where A moved first / second (NaN: no such game).
void colour_scores(const ArenaResult& arena, double* first, double* second) {
  for (int colour = 0; colour < 2; ++colour) {
    const int n = arena.wins[colour] + arena.draws[colour] + arena.losses[colour];
    *(colour == 0 ? first : second) =
        n > 0 ? (arena.wins[colour] + 0.5 * arena.draws[colour]) / n : std::nan("");
  }
}

uint64_t learner_step(const shm::Segment& segment) {
  for (const auto& slot : shm::read_stats(segment))
    if (slot.role == shm::Role::kLearner && slot.index == 0)
      return slot.value(stat::learner::kStep);
  return 0;
}

}  // namespace

// A position file measured for move accuracy, its labels loaded on first use.
struct LiveEvaluator::AccuracySet {
  std::string file;  // "" = not measured
  int limit = 0;
  std::vector<LabelledPosition> labels;
  bool loaded = false;
};

// What one run() holds. The watcher is destroyed before the stats slot and the segment.
struct LiveEvaluator::Session {
  Session(const RunConfig& config, const std::string& accuracy_positions,
          const std::string& early_middle_positions, std::atomic<uint32_t>* stop)
      : game(make_game(config.game)),
        is_connect4(game->spec() == "connect4"),
        main_set{accuracy_positions, config.eval.accuracy_limit, {}, false},
        early_middle_set{early_middle_positions, config.eval.early_middle_limit, {}, false},
        csv_path(config.run_dir + "/eval.csv"),
        segment(attach_below_training(config.shm.name)),
        weights(*segment),
        // A second evaluator is refused before it can claim the stats slot.
        stats((refuse_second_evaluator(*segment), *segment)),
        tensorboard(config.run_dir, "eval"),  // eval.csv's rows, for TensorBoard
        watcher(*segment, stop, log_line) {}

  // Below the actors and the learner: evaluation is a by-product and must not slow training.
  // (setpriority can only fail here if we were already niced further; that is fine.)
  static std::unique_ptr<shm::Segment> attach_below_training(const std::string& shm_name) {
    ::setpriority(PRIO_PROCESS, 0, 10);
    set_cpu_threads(1);
    return shm::Segment::open(shm_name);
  }

  const std::unique_ptr<Game> game;
  const bool is_connect4;
  AccuracySet main_set, early_middle_set;
  const std::string csv_path;
  const std::unique_ptr<shm::Segment> segment;
  shm::WeightSlot weights;
  EvalStats stats;
  TensorBoardLog tensorboard;
  RunWatcher watcher;
  uint64_t last_version = 0;  // the newest evaluated (eval.csv's last row at start)
  std::vector<uint8_t> blob;  // the weights being evaluated
  WeightBlobHeader header;    // and their header
};

LiveEvaluator::LiveEvaluator(const RunConfig& config, std::string accuracy_positions,
                             std::atomic<uint32_t>* interrupted, std::string early_middle_positions)
    : config_(config),
      accuracy_positions_(std::move(accuracy_positions)),
      early_middle_positions_(std::move(early_middle_positions)),
      interrupted_(interrupted) {}

LiveEvaluator::~LiveEvaluator() = default;

void LiveEvaluator::run() {
  attach();
  const auto poll = std::chrono::milliseconds(100);
  int ticks = 0;
  while (!stopping()) {
    s_->stats.writer.heartbeat();
    // Once a second: anything new enough? (one atomic load)
    if (ticks++ % 10 == 0) {
      EvalRow row;
      if (const uint64_t version = read_due_version(&row)) {
        if (!evaluate(version, &row)) break;
        record(&row);
        ticks = 0;
        continue;  // re-check at once: versions may have piled up meanwhile
      }
    }
    std::this_thread::sleep_for(poll);
  }
  s_->stats.writer.set_state(shm::ProcessState::kExited);
  s_.reset();
}

bool LiveEvaluator::stopping() const {
  return s_->watcher.stopping();
}

void LiveEvaluator::checkpoint() {
  s_->stats.writer.heartbeat();
  if (stopping()) throw StopRequested{};
}

void LiveEvaluator::attach() {
  require_run_dir(&config_);
  s_ = std::make_unique<Session>(config_, accuracy_positions_, early_middle_positions_,
                                 interrupted_);
  Session& s = *s_;
  s.stats.writer.set_state(shm::ProcessState::kRunning);
  s.last_version = last_evaluated_version(s.csv_path);
  if (s.last_version)
    log_line(
        fmt::format("{} already has weights v{}: continuing after it", s.csv_path, s.last_version));
  log_line(fmt::format(
      "{} on {} (segment {}): every {} versions, {} games of net MCTS {} vs "
      "rollout MCTS {}{}{}{}",
      config_.run_dir, s.game->spec(), config_.shm.name, config_.eval.every_versions,
      config_.eval.games, config_.eval.sims, config_.eval.opponent_sims,
      s.is_connect4 && !s.main_set.file.empty()
          ? fmt::format(", accuracy on {} (first {})", s.main_set.file, s.main_set.limit)
          : "",
      s.is_connect4 && !s.early_middle_set.file.empty()
          ? fmt::format(", early/middle accuracy on {} (first {})", s.early_middle_set.file,
                        s.early_middle_set.limit)
          : "",
      config_.eval.strong_opponent_sims > 0
          ? fmt::format(", and {} games vs rollout MCTS {}", config_.eval.games,
                        config_.eval.strong_opponent_sims)
          : ""));
}

uint64_t LiveEvaluator::read_due_version(EvalRow* row) {
  Session& s = *s_;
  const uint64_t latest = s.weights.latest_version();
  const bool due = latest > s.last_version &&
                   (s.last_version == 0 ||
                    latest - s.last_version >= static_cast<uint64_t>(config_.eval.every_versions));
  if (!due) return 0;
  const uint64_t version = s.weights.read(&s.blob);  // the newest, possibly past `latest`
  row->weight_version = version;
  row->step = learner_step(*s.segment);
  return version;
}

bool LiveEvaluator::evaluate(uint64_t version, EvalRow* row) {
  Session& s = *s_;
  s.header = parse_weight_blob_header(s.blob.data(), s.blob.size());
  if (s.header.game_spec != s.game->spec())
    throw std::runtime_error(fmt::format(
        "weights v{} hold a {} network but this run plays {}: check game= in the config", version,
        s.header.description(), s.game->spec()));
  try {
    play_arenas(version, row);
    measure_accuracies(version, row);
  } catch (const StopRequested&) {
    log_line(fmt::format("stop requested: evaluation of v{} abandoned", version));
    return false;
  }
  return true;
}

std::unique_ptr<NetEvaluator> LiveEvaluator::network() const {
  auto e = std::make_unique<NetEvaluator>(*s_->game, s_->header.config, kMaxBatch,
                                          /*threads=*/1);
  e->load_blob(s_->blob);
  return e;
}

void LiveEvaluator::play_arenas(uint64_t version, EvalRow* row) {
  const Game& game = *s_->game;
  const uint64_t seed = seed_for(version);
  // The run's own search (PUCT, or the Gumbel root with mcts.gumbel), without noise.
  auto agent = make_mcts_agent(game, network(), config_.eval.sims, seed,
                               fmt::format("net:v{}:{}", version, config_.eval.sims),
                               config_.mcts.gumbel);
  // Every game counted, then a heartbeat and a stop check.
  auto after_game = [&](const ArenaGame&) {
    s_->stats.writer.add(s_->stats.games, 1);
    checkpoint();
  };
  auto opponent = make_mcts_agent(game, std::make_unique<RolloutEvaluator>(game, seed ^ 0x5bd1e995),
                                  config_.eval.opponent_sims, seed + 1,
                                  fmt::format("mcts:{}", config_.eval.opponent_sims));
  const ArenaResult arena = play_arena(game, *agent, *opponent, config_.eval.games, {}, after_game);
  const MatchStats m = arena.stats();
  row->games = m.games();
  row->won = m.wins;
  row->drawn = m.draws;
  row->lost = m.losses;
  row->win_rate = static_cast<double>(m.wins) / m.games();
  row->score = m.score;
  row->elo = m.elo;
  colour_scores(arena, &row->score_as_first, &row->score_as_second);
  // The second arena, against a stronger rollout MCTS (same network agent, fresh tree).
  if (config_.eval.strong_opponent_sims > 0) {
    auto strong = make_mcts_agent(game, std::make_unique<RolloutEvaluator>(game, seed ^ 0x27d4eb2f),
                                  config_.eval.strong_opponent_sims, seed + 2,
                                  fmt::format("mcts:{}", config_.eval.strong_opponent_sims));
    const ArenaResult strong_arena =
        play_arena(game, *agent, *strong, config_.eval.games, {}, after_game);
    row->strong_opponent_sims = config_.eval.strong_opponent_sims;
    row->strong_score = strong_arena.stats().score;
    colour_scores(strong_arena, &row->strong_score_as_first, &row->strong_score_as_second);
  }
}

void LiveEvaluator::measure_accuracies(uint64_t version, EvalRow* row) {
  Session& s = *s_;
  if (!s.is_connect4) return;
  // Each set with the row's columns for it: policy keep/optimal, MCTS keep/optimal.
  const struct {
    AccuracySet* set;
    std::optional<double>* columns[4];
  } sets[] = {{&s.main_set,
               {&row->policy_accuracy_keep, &row->policy_accuracy_optimal, &row->mcts_accuracy_keep,
                &row->mcts_accuracy_optimal}},
              {&s.early_middle_set,
               {&row->early_middle_policy_accuracy_keep, &row->early_middle_policy_accuracy_optimal,
                &row->early_middle_mcts_accuracy_keep, &row->early_middle_mcts_accuracy_optimal}}};
  for (const auto& [set, columns] : sets) {
    if (set->file.empty()) continue;
    const auto [policy, mcts] = measure_set(*set, version);
    *columns[0] = policy.keeps_fraction();
    *columns[1] = policy.optimal_fraction();
    *columns[2] = mcts.keeps_fraction();
    *columns[3] = mcts.optimal_fraction();
  }
}

std::pair<AccuracyResult, AccuracyResult> LiveEvaluator::measure_set(AccuracySet& set,
                                                                     uint64_t version) {
  const Game& game = *s_->game;
  if (!set.loaded) {
    const std::string dir = config_.run_dir + "/eval";
    ::mkdir(dir.c_str(), 0700);
    const std::string base = set.file.substr(set.file.rfind('/') + 1);
    const std::string cache = dir + "/labels-" + base;
    seed_label_cache(set.file + ".labels", cache);  // shipped labels: nothing to solve
    Connect4Solver solver;
    LabelLoad load = load_or_solve_labels(set.file, cache, set.limit, solver);
    log_line(load.note);
    set.labels = std::move(load.positions);
    set.loaded = true;
    checkpoint();
  }
  auto policy = make_policy_agent(game, network(), "policy");
  auto mcts = make_mcts_agent(game, network(), config_.eval.sims, seed_for(version), "mcts",
                              config_.mcts.gumbel);
  std::pair<AccuracyResult, AccuracyResult> totals;
  const std::vector<LabelledPosition>& labels = set.labels;
  for (size_t begin = 0; begin < labels.size(); begin += kAccuracyChunk) {
    const std::vector<LabelledPosition> chunk(
        labels.begin() + begin, labels.begin() + std::min(labels.size(), begin + kAccuracyChunk));
    for (auto [agent_ptr, total] :
         {std::pair{policy.get(), &totals.first}, std::pair{mcts.get(), &totals.second}}) {
      const AccuracyResult r = measure_accuracy(game, chunk, *agent_ptr);
      total->positions += r.positions;
      total->counted += r.counted;
      total->optimal += r.optimal;
      total->keeps += r.keeps;
    }
    checkpoint();
  }
  return totals;
}

void LiveEvaluator::record(EvalRow* row) {
  Session& s = *s_;
  row->time = epoch_seconds();
  append_eval_row(s.csv_path, *row);
  s.tensorboard.write_scalars(static_cast<int64_t>(row->step), row->time, eval_scalars(*row));
  s.stats.set_gauges(*row);
  s.stats.writer.add(s.stats.evaluations, 1);
  log_line(fmt::format(
      "v{} (step {}): {} W {} D {} L, score {:.3f}, Elo {}{}{}{}", row->weight_version, row->step,
      row->won, row->drawn, row->lost, row->score, format_elo(row->elo),
      row->policy_accuracy_optimal
          ? fmt::format(", optimal moves: policy {:.3f} mcts {:.3f}", *row->policy_accuracy_optimal,
                        *row->mcts_accuracy_optimal)
          : "",
      row->early_middle_policy_accuracy_optimal
          ? fmt::format(", early/middle: policy {:.3f} mcts {:.3f}",
                        *row->early_middle_policy_accuracy_optimal,
                        *row->early_middle_mcts_accuracy_optimal)
          : "",
      row->strong_opponent_sims > 0 ? fmt::format("; vs rollout MCTS {}: score {:.3f}",
                                                  row->strong_opponent_sims, row->strong_score)
                                    : ""));
  s.last_version = row->weight_version;
}

}  // namespace rz
