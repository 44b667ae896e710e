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
#include "common/solver/connect4_solver.h"
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

// The evaluator's stats slot and its metric handles.
struct EvalStats {
  explicit EvalStats(shm::Segment& segment)
      : writer(segment, shm::Role::kEvaluator, 0),
        version(writer.gauge("eval_version")),
        score(writer.gauge("eval_score")),
        win_rate(writer.gauge("eval_win_rate")),
        elo(writer.gauge("eval_elo")),
        accuracy_policy(writer.gauge("eval_accuracy_policy")),
        accuracy_mcts(writer.gauge("eval_accuracy_mcts")),
        early_middle_policy(writer.gauge("eval_early_policy")),
        early_middle_mcts(writer.gauge("eval_early_mcts")),
        strong_score(writer.gauge("eval_strong_score")),
        evaluations(writer.metric("evaluations")),
        games(writer.metric("eval_games")) {}
  shm::StatsWriter writer;
  int version, score, win_rate, elo, accuracy_policy, accuracy_mcts, early_middle_policy,
      early_middle_mcts, strong_score, evaluations, games;
};

// One evaluator per run: a second one would share the stats slot and double the work. The
// slot's pid is alive (and not ours) only while another evaluator runs; a crashed one left a
// dead pid, and its slot is reused as a restart.
void refuse_second_evaluator(const shm::Segment& segment) {
  for (const auto& slot : shm::read_stats(segment)) {
    if (slot.role != shm::Role::kEvaluator || slot.index != 0) continue;
    const pid_t pid = static_cast<pid_t>(slot.pid);
    if (slot.state == shm::ProcessState::kExited || pid <= 0 || pid == ::getpid()) return;
    // EPERM: a process of another user holds that pid now (reused), not our evaluator.
    if (::kill(pid, 0) == 0)
      throw std::runtime_error(fmt::format(
          "another evaluator (pid {}) is already running for this run: stop it first, or "
          "start the run with --eval.enabled false to evaluate by hand",
          pid));
  }
}

// A position file measured for move accuracy, its labels loaded on first use.
struct AccuracySet {
  std::string file;  // "" = not measured
  int limit = 0;
  std::vector<LabelledPosition> labels;
  bool loaded = false;
};

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
    if (slot.role == shm::Role::kLearner && slot.index == 0) return slot.value("step");
  return 0;
}

}  // namespace

LiveEvaluator::LiveEvaluator(const RunConfig& config, std::string accuracy_positions,
                             const std::atomic<uint32_t>* interrupted,
                             std::string early_middle_positions)
    : config_(config),
      accuracy_positions_(std::move(accuracy_positions)),
      early_middle_positions_(std::move(early_middle_positions)),
      interrupted_(interrupted) {}

void LiveEvaluator::run() {
  if (config_.run_dir.empty()) throw std::runtime_error("--run-dir is required");
  const std::string shm_name =
      config_.shm.name.empty() ? default_shm_name(config_.run_dir) : config_.shm.name;
  const std::unique_ptr<Game> game = make_game(config_.game);
  const bool is_connect4 = game->spec() == "connect4";
  AccuracySet main_set{accuracy_positions_, config_.eval.accuracy_limit, {}, false};
  AccuracySet early_middle_set{early_middle_positions_, config_.eval.early_middle_limit, {}, false};
  const std::string csv_path = config_.run_dir + "/eval.csv";

  // Below the actors and the learner: evaluation is a by-product and must not slow training.
  // (setpriority can only fail here if we were already niced further; that is fine.)
  ::setpriority(PRIO_PROCESS, 0, 10);
  set_cpu_threads(1);

  std::unique_ptr<shm::Segment> segment = shm::Segment::open(shm_name);
  shm::WeightSlot weights(*segment);
  refuse_second_evaluator(*segment);
  EvalStats stats(*segment);
  TensorBoardLog tensorboard(config_.run_dir, "eval");  // eval.csv's rows, for TensorBoard
  stats.writer.set_state(shm::ProcessState::kRunning);

  auto stop_requested = [&] {
    return interrupted_->load(std::memory_order_acquire) != 0 ||
           segment->control().stop_requested();
  };
  // Heartbeat + stop check between units of work; throws StopRequested to abandon one.
  auto checkpoint = [&] {
    stats.writer.heartbeat();
    if (stop_requested()) throw StopRequested{};
  };

  uint64_t last_version = last_evaluated_version(csv_path);
  if (last_version)
    log_line(
        fmt::format("{} already has weights v{}: continuing after it", csv_path, last_version));

  std::vector<uint8_t> blob;

  // One evaluation of the weights in `blob`; fills `row`.
  auto evaluate = [&](uint64_t version, EvalRow* row) {
    const WeightBlobHeader header = parse_weight_blob_header(blob.data(), blob.size());
    if (header.game_spec != game->spec())
      throw std::runtime_error(fmt::format(
          "weights v{} hold a {} network but this run plays {}: check game= in the config", version,
          header.description(), game->spec()));
    auto network = [&] {
      auto e = std::make_unique<NetEvaluator>(*game, header.config, kMaxBatch, /*threads=*/1);
      e->load_blob(blob);
      return e;
    };
    const uint64_t seed = config_.seed * 1000003 + version;

    auto agent = make_mcts_agent(*game, network(), config_.eval.sims, seed,
                                 fmt::format("net:v{}:{}", version, config_.eval.sims));
    auto opponent = make_mcts_agent(
        *game, std::make_unique<RolloutEvaluator>(*game, seed ^ 0x5bd1e995),
        config_.eval.opponent_sims, seed + 1, fmt::format("mcts:{}", config_.eval.opponent_sims));
    const ArenaResult arena =
        play_arena(*game, *agent, *opponent, config_.eval.games, {}, [&](const ArenaGame&) {
          stats.writer.add(stats.games, 1);
          checkpoint();
        });
    const MatchStats s = arena.stats();
    row->games = s.games();
    row->won = s.wins;
    row->drawn = s.draws;
    row->lost = s.losses;
    row->win_rate = static_cast<double>(s.wins) / s.games();
    row->score = s.score;
    row->elo = s.elo;
    colour_scores(arena, &row->score_as_first, &row->score_as_second);
    // The second arena, against a stronger rollout MCTS (same network agent, fresh tree).
    if (config_.eval.strong_opponent_sims > 0) {
      auto strong =
          make_mcts_agent(*game, std::make_unique<RolloutEvaluator>(*game, seed ^ 0x27d4eb2f),
                          config_.eval.strong_opponent_sims, seed + 2,
                          fmt::format("mcts:{}", config_.eval.strong_opponent_sims));
      const ArenaResult strong_arena =
          play_arena(*game, *agent, *strong, config_.eval.games, {}, [&](const ArenaGame&) {
            stats.writer.add(stats.games, 1);
            checkpoint();
          });
      row->strong_opponent_sims = config_.eval.strong_opponent_sims;
      row->strong_score = strong_arena.stats().score;
      colour_scores(strong_arena, &row->strong_score_as_first, &row->strong_score_as_second);
    }

    // Raw policy and MCTS on one set: (policy, mcts) results.
    auto measure = [&](AccuracySet& set) {
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
      auto policy = make_policy_agent(*game, network(), "policy");
      auto mcts = make_mcts_agent(*game, network(), config_.eval.sims, seed, "mcts");
      std::pair<AccuracyResult, AccuracyResult> totals;
      const std::vector<LabelledPosition>& labels = set.labels;
      for (size_t begin = 0; begin < labels.size(); begin += kAccuracyChunk) {
        const std::vector<LabelledPosition> chunk(
            labels.begin() + begin,
            labels.begin() + std::min(labels.size(), begin + kAccuracyChunk));
        for (auto [agent_ptr, total] :
             {std::pair{policy.get(), &totals.first}, std::pair{mcts.get(), &totals.second}}) {
          const AccuracyResult r = measure_accuracy(*game, chunk, *agent_ptr);
          total->positions += r.positions;
          total->counted += r.counted;
          total->optimal += r.optimal;
          total->keeps += r.keeps;
        }
        checkpoint();
      }
      return totals;
    };
    if (is_connect4 && !main_set.file.empty()) {
      const auto [p, m] = measure(main_set);
      row->policy_accuracy_keep = p.keeps_fraction();
      row->policy_accuracy_optimal = p.optimal_fraction();
      row->mcts_accuracy_keep = m.keeps_fraction();
      row->mcts_accuracy_optimal = m.optimal_fraction();
    }
    if (is_connect4 && !early_middle_set.file.empty()) {
      const auto [p, m] = measure(early_middle_set);
      row->early_middle_policy_accuracy_keep = p.keeps_fraction();
      row->early_middle_policy_accuracy_optimal = p.optimal_fraction();
      row->early_middle_mcts_accuracy_keep = m.keeps_fraction();
      row->early_middle_mcts_accuracy_optimal = m.optimal_fraction();
    }
  };

  log_line(
      fmt::format("{} on {} (segment {}): every {} versions, {} games of net MCTS {} vs "
                  "rollout MCTS {}{}{}{}",
                  config_.run_dir, game->spec(), shm_name, config_.eval.every_versions,
                  config_.eval.games, config_.eval.sims, config_.eval.opponent_sims,
                  is_connect4 && !main_set.file.empty()
                      ? fmt::format(", accuracy on {} (first {})", main_set.file, main_set.limit)
                      : "",
                  is_connect4 && !early_middle_set.file.empty()
                      ? fmt::format(", early/middle accuracy on {} (first {})",
                                    early_middle_set.file, early_middle_set.limit)
                      : "",
                  config_.eval.strong_opponent_sims > 0
                      ? fmt::format(", and {} games vs rollout MCTS {}", config_.eval.games,
                                    config_.eval.strong_opponent_sims)
                      : ""));
  const auto poll = std::chrono::milliseconds(100);
  int ticks = 0;
  while (!stop_requested()) {
    stats.writer.heartbeat();
    // Once a second: anything new enough? (one atomic load) And is the run still there?
    if (ticks++ % 10 == 0) {
      if (!segment->creator_alive()) {
        log_line("the run's creator is gone: stopping");
        break;
      }
      const uint64_t latest = weights.latest_version();
      const bool due =
          latest > last_version &&
          (last_version == 0 ||
           latest - last_version >= static_cast<uint64_t>(config_.eval.every_versions));
      if (due) {
        const uint64_t version = weights.read(&blob);  // the newest, possibly past `latest`
        EvalRow row;
        row.weight_version = version;
        row.step = learner_step(*segment);
        try {
          evaluate(version, &row);
        } catch (const StopRequested&) {
          log_line(fmt::format("stop requested: evaluation of v{} abandoned", version));
          break;
        }
        row.time = epoch_seconds();
        append_eval_row(csv_path, row);
        tensorboard.write_scalars(static_cast<int64_t>(row.step), row.time, eval_scalars(row));
        stats.writer.set_gauge(stats.version, static_cast<double>(version));
        stats.writer.set_gauge(stats.score, row.score);
        stats.writer.set_gauge(stats.win_rate, row.win_rate);
        stats.writer.set_gauge(stats.elo, row.elo);
        if (row.policy_accuracy_optimal) {
          stats.writer.set_gauge(stats.accuracy_policy, *row.policy_accuracy_optimal);
          stats.writer.set_gauge(stats.accuracy_mcts, *row.mcts_accuracy_optimal);
        }
        if (row.strong_opponent_sims > 0)
          stats.writer.set_gauge(stats.strong_score, row.strong_score);
        if (row.early_middle_policy_accuracy_optimal) {
          stats.writer.set_gauge(stats.early_middle_policy,
                                 *row.early_middle_policy_accuracy_optimal);
          stats.writer.set_gauge(stats.early_middle_mcts, *row.early_middle_mcts_accuracy_optimal);
        }
        stats.writer.add(stats.evaluations, 1);
        log_line(fmt::format(
            "v{} (step {}): {} W {} D {} L, score {:.3f}, Elo {}{}{}{}", version, row.step, row.won,
            row.drawn, row.lost, row.score, format_elo(row.elo),
            row.policy_accuracy_optimal
                ? fmt::format(", optimal moves: policy {:.3f} mcts {:.3f}",
                              *row.policy_accuracy_optimal, *row.mcts_accuracy_optimal)
                : "",
            row.early_middle_policy_accuracy_optimal
                ? fmt::format(", early/middle: policy {:.3f} mcts {:.3f}",
                              *row.early_middle_policy_accuracy_optimal,
                              *row.early_middle_mcts_accuracy_optimal)
                : "",
            row.strong_opponent_sims > 0 ? fmt::format("; vs rollout MCTS {}: score {:.3f}",
                                                       row.strong_opponent_sims, row.strong_score)
                                         : ""));
        last_version = version;
        ticks = 0;
        continue;  // re-check at once: versions may have piled up meanwhile
      }
    }
    std::this_thread::sleep_for(poll);
  }
  stats.writer.set_state(shm::ProcessState::kExited);
}

}  // namespace rz
