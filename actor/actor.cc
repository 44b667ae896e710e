#include "actor/actor.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <new>
#include <random>
#include <thread>
#include <vector>

#include "common/game.h"
#include "common/hash.h"
#include "common/mcts/eval_cache.h"
#include "common/mcts/selfplay.h"
#include "common/net/net_evaluator.h"
#include "common/net/weight_blob.h"
#include "common/role_process.h"
#include "common/stat_names.h"
#include "common/trajectory.h"
#include "shm/control.h"
#include "shm/segment.h"
#include "shm/stats.h"
#include "shm/trajectory_ring.h"
#include "shm/weight_slot.h"

namespace rz {
namespace {

using Clock = std::chrono::steady_clock;

// The actor's stats slot: handles registered once, updated per game and per round.
struct ActorStats {
  explicit ActorStats(shm::StatsWriter& w)
      : writer(w),
        games(w.metric(stat::actor::kGames)),
        positions(w.metric(stat::actor::kPositions)),
        records_committed(w.metric(stat::actor::kRecordsCommitted)),
        bytes_committed(w.metric(stat::actor::kBytesCommitted)),
        simulations(w.metric(stat::actor::kSimulations)),
        resigned_games(w.metric(stat::actor::kResignedGames)),
        resign_disabled_games(w.metric(stat::actor::kResignDisabledGames)),
        resign_false_pos(w.metric(stat::actor::kResignFalsePos)),
        records_too_large(w.metric(stat::actor::kRecordsTooLarge)),
        weight_switches(w.metric(stat::actor::kWeightSwitches)),
        lane_wait_ms(w.metric(stat::actor::kLaneWaitMs)),
        weight_version(w.gauge(stat::actor::kWeightVersion)),
        positions_per_s(w.gauge(stat::actor::kPositionsPerS)),
        sims_per_s(w.gauge(stat::actor::kSimsPerS)),
        eval_lookups(w.metric(stat::actor::kEvalLookups)),
        eval_saved(w.metric(stat::actor::kEvalSaved)),
        eval_cache_hit_rate(w.gauge(stat::actor::kEvalCacheHitRate)),
        precision_bf16(w.gauge(stat::actor::kPrecisionBf16)) {}

  // Recomputes the rate gauges about once a second from the cumulative counters.
  void update_rates(Clock::time_point now) {
    const double dt = std::chrono::duration<double>(now - rate_start).count();
    if (dt < 1.0) return;
    const uint64_t pos = writer.get(positions), sims = writer.get(simulations);
    if (rate_initialised) {
      writer.set_gauge(positions_per_s, double(pos - rate_positions) / dt);
      writer.set_gauge(sims_per_s, double(sims - rate_sims) / dt);
    }
    rate_initialised = true;
    rate_start = now;
    rate_positions = pos;
    rate_sims = sims;
  }

  shm::StatsWriter& writer;
  const int games, positions, records_committed, bytes_committed, simulations;
  const int resigned_games, resign_disabled_games, resign_false_pos, records_too_large;
  const int weight_switches, lane_wait_ms, weight_version, positions_per_s, sims_per_s;
  // Evaluation cache: leaves looked up, leaves answered without a forward pass (table hits
  // and duplicates within a batch), and their ratio; the forward precision (0 fp32, 1 bf16).
  const int eval_lookups, eval_saved, eval_cache_hit_rate, precision_bf16;
  Clock::time_point rate_start = Clock::now();
  uint64_t rate_positions = 0, rate_sims = 0;
  bool rate_initialised = false;
};

// Distinct per slot and per restart of a slot, so that a restarted actor does not replay
// the games its predecessor already delivered; reproducible from the run's seed.
uint64_t actor_seed(uint64_t run_seed, uint32_t slot, uint32_t restarts) {
  if (run_seed == 0) {
    std::random_device rd;
    run_seed = (uint64_t(rd()) << 32) ^ rd();
  }
  return splitmix64(splitmix64(run_seed ^ splitmix64(slot + 1)) ^ restarts);
}

}  // namespace

// What one run() holds. The members are built in this order and destroyed in the reverse one:
// the driver before the evaluators it uses, the watcher (whose thread may touch the stats
// slot) before the slot, the lane (released by ~LaneWriter) before the segment.
struct Actor::Session {
  Session(const RunConfig& config, uint32_t slot, std::atomic<uint32_t>* stop,
          std::function<void(const std::string&)> log)
      : game(make_game(config.game)),
        segment(open_segment(config, slot)),
        // The lane first: its owner mutex decides who is slot K, so a second actor started on
        // a live slot is refused before it can touch the live actor's stats.
        lane(*segment, slot),
        writer(*segment, shm::Role::kActor, slot),
        exited_on_leave{writer},
        stats(writer),
        watcher(*segment, stop, std::move(log)),
        weights(*segment) {}

  static std::unique_ptr<shm::Segment> open_segment(const RunConfig& config, uint32_t slot) {
    if (config.shm.name.empty())
      throw ActorError(
          "no shared-memory segment given: pass --shm NAME, --run-dir DIR or "
          "--config RUN/config.ini");
    auto segment = shm::Segment::open(config.shm.name);
    if (slot >= segment->sizes().lanes)
      throw ActorError(
          fmt::format("--slot {} is out of range: segment {} has {} lanes, use a "
                      "slot in [0, {}]",
                      slot, segment->name(), segment->sizes().lanes, segment->sizes().lanes - 1));
    return segment;
  }

  const std::unique_ptr<Game> game;
  const std::unique_ptr<shm::Segment> segment;
  shm::LaneWriter lane;
  shm::StatsWriter writer;
  struct ExitedOnLeave {  // whatever way run() ends, the slot says so
    shm::StatsWriter& w;
    ~ExitedOnLeave() { w.set_state(shm::ProcessState::kExited); }
  } exited_on_leave;
  ActorStats stats;
  RunWatcher watcher;
  shm::WeightSlot weights;

  // From load_network() on.
  int max_batch = 0;
  std::unique_ptr<NetEvaluator> net;
  std::unique_ptr<CachingEvaluator> evaluator;  // every leaf goes through the cache
  std::vector<uint8_t> blob;
  uint64_t version = 0;
  std::unique_ptr<SelfPlayDriver> driver;

  // Per round.
  std::vector<FinishedGame> finished;
  std::vector<uint8_t> record;
  uint64_t sims_reported = 0, lookups_reported = 0, saved_reported = 0;
};

Actor::Actor(const RunConfig& config, uint32_t slot, std::atomic<uint32_t>* interrupted)
    : config_(config), slot_(slot), interrupted_(interrupted) {}

Actor::~Actor() = default;

void Actor::run() {
  attach();
  if (wait_for_first_weights()) {
    load_network();
    s_->writer.set_state(shm::ProcessState::kRunning);
    while (!stopping()) {
      switch_to_newer_weights();
      play_round();
      commit_finished_games();
      report_round();
    }
    stop();
  }
  s_.reset();
}

void Actor::log(const std::string& line) const {
  std::fprintf(stderr, "ringzero-actor[%u]: %s\n", slot_, line.c_str());
}

bool Actor::stopping() const {
  return interrupted_->load(std::memory_order_acquire) != 0;
}

void Actor::attach() {
  s_ = std::make_unique<Session>(config_, slot_, interrupted_,
                                 [this](const std::string& line) { log(line); });
  log(fmt::format("attached to {} lane {}{} (next record {}), game {}, network {}",
                  s_->segment->name(), slot_, s_->lane.took_over() ? " (taken over)" : "",
                  s_->lane.next_sequence(), s_->game->spec(), config_.net.shape_string()));
}

bool Actor::wait_for_first_weights() {
  // Until the learner publishes, there is nothing worth playing.
  while (s_->weights.latest_version() == 0) {
    if (stopping()) {
      log("stopped before the first weights were published");
      return false;
    }
    s_->writer.heartbeat();
    s_->segment->control().wait_for_stop(std::chrono::milliseconds(100));  // a signal wakes it
  }
  return true;
}

void Actor::load_network() {
  Session& s = *s_;
  // One round evaluates up to games_in_flight * virtual_leaves leaves; the evaluator
  // preallocates its input for max_batch and splits bigger rounds into chunks, so the cap
  // bounds memory (65536 games x 256 leaves would be gigabytes) without changing results.
  constexpr int kMaxForwardBatch = 4096;
  s.max_batch = static_cast<int>(std::min<int64_t>(
      int64_t(config_.actor.games_in_flight) * config_.mcts.virtual_leaves, kMaxForwardBatch));
  s.net = std::make_unique<NetEvaluator>(*s.game, config_.net, s.max_batch, config_.actor.threads);
  // Answers of old weights are dropped on a switch.
  try {
    s.evaluator = std::make_unique<CachingEvaluator>(*s.game, *s.net,
                                                     size_t(config_.actor.eval_cache_mib) << 20);
  } catch (const std::bad_alloc&) {
    throw ActorError(
        fmt::format("actor.eval_cache_mib={} does not fit in memory: use a smaller "
                    "cache (default 32, 0 = off)",
                    config_.actor.eval_cache_mib));
  }
  s.version = s.weights.read(&s.blob);
  load_weights(s.version);
  // The forward precision, measured at the batch a round forms when "auto".
  try {
    if (config_.actor.precision == "auto") {
      log(s.net->choose_precision_by_measurement(s.max_batch));
    } else if (config_.actor.precision == "bf16") {
      s.net->set_precision(Precision::kBf16);
      log(cpu_has_native_bf16()
              ? "precision bf16 (asked for; CPU has native bf16)"
              : "precision bf16 (asked for; this CPU has no native bf16: oneDNN emulates it, "
                "slower than fp32)");
    } else {
      log("precision fp32 (asked for)");
    }
  } catch (const std::runtime_error& e) {
    throw ActorError(e.what());
  }
  s.writer.set_gauge(s.stats.precision_bf16, s.net->precision() == Precision::kBf16 ? 1.0 : 0.0);
  log(fmt::format("evaluation cache {} MiB ({} entries)", config_.actor.eval_cache_mib,
                  s.evaluator->capacity_entries()));
  log(fmt::format("playing with weights version {}", s.version));
  s.driver = std::make_unique<SelfPlayDriver>(*s.game, *s.evaluator, config_.mcts,
                                              config_.actor.games_in_flight,
                                              actor_seed(config_.seed, slot_, s.writer.restarts()));
  s.driver->set_weight_version(s.version);
}

// A blob of another network is fatal: the run's config and the learner disagree, and no amount
// of waiting fixes that.
void Actor::load_weights(uint64_t version) {
  Session& s = *s_;
  try {
    s.net->load_blob(s.blob.data(), s.blob.size());
  } catch (const WeightBlobError& e) {
    throw ActorError(
        fmt::format("weights version {} in {} do not fit this actor's network ({}): {}", version,
                    s.segment->name(), s.net->description(), e.what()));
  }
  s.evaluator->invalidate();
  s.writer.set_gauge(s.stats.weight_version, double(version));
}

void Actor::switch_to_newer_weights() {
  Session& s = *s_;
  if (s.weights.latest_version() <= s.version) return;
  try {
    if (const uint64_t v = s.weights.read_if_newer(s.version, &s.blob)) {
      load_weights(v);
      s.version = v;
      s.driver->set_weight_version(v);
      s.writer.add(s.stats.weight_switches, 1);
      log(fmt::format("switched to weights version {}", v));
    }
  } catch (const shm::ShmError& e) {
    // The publisher outran every copy attempt; the next round tries again.
    log(fmt::format("weights not read this round: {}", e.what()));
  }
}

void Actor::play_round() {
  s_->finished.clear();
  s_->driver->run_round(&s_->finished);
}

// The lane sequence number is the game's id.
void Actor::commit_finished_games() {
  Session& s = *s_;
  const uint64_t spec_hash = game_spec_hash(s.game->spec());
  const uint64_t max_record = s.segment->sizes().max_record_bytes;
  for (const FinishedGame& g : s.finished) {
    encode_trajectory(g, {spec_hash, slot_, s.lane.next_sequence()}, &s.record);
    if (s.record.size() > max_record) {
      s.writer.add(s.stats.records_too_large, 1);
      log(fmt::format("dropped a {}-byte record: shm.max_record_bytes is {}", s.record.size(),
                      max_record));
      continue;
    }
    const auto write_start = Clock::now();
    s.watcher.heartbeat_for(&s.writer);
    const bool written = s.lane.write(s.record.data(), s.record.size(), interrupted_);
    s.watcher.heartbeat_for(nullptr);
    s.writer.add(
        s.stats.lane_wait_ms,
        uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - write_start)
                     .count()));
    if (!written) return;  // stopping
    s.writer.add(s.stats.records_committed, 1);
    s.writer.add(s.stats.bytes_committed, s.record.size());
    s.writer.add(s.stats.games, 1);
    s.writer.add(s.stats.positions, g.positions.size());
    if (g.resigned) s.writer.add(s.stats.resigned_games, 1);
    if (g.resign_disabled) s.writer.add(s.stats.resign_disabled_games, 1);
    if (g.would_have_resigned_wrongly) s.writer.add(s.stats.resign_false_pos, 1);
  }
}

void Actor::report_round() {
  Session& s = *s_;
  const uint64_t sims = s.driver->simulations();
  s.writer.add(s.stats.simulations, sims - s.sims_reported);
  s.sims_reported = sims;
  s.writer.add(s.stats.eval_lookups, s.evaluator->lookups() - s.lookups_reported);
  s.writer.add(s.stats.eval_saved, s.evaluator->saved() - s.saved_reported);
  s.lookups_reported = s.evaluator->lookups();
  s.saved_reported = s.evaluator->saved();
  s.writer.set_gauge(s.stats.eval_cache_hit_rate, s.evaluator->hit_rate());
  s.stats.update_rates(Clock::now());
  s.writer.heartbeat();
}

// The games in flight are abandoned (never half-written); the lane is released by
// ~LaneWriter when the session ends.
void Actor::stop() {
  s_->writer.set_state(shm::ProcessState::kStopping);
  log(fmt::format("stopping: {} records committed on lane {} in total", s_->lane.next_sequence(),
                  slot_));
}

}  // namespace rz
