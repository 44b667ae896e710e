#include "actor/actor.h"

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

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
#include "common/trajectory.h"
#include "shm/control.h"
#include "shm/segment.h"
#include "shm/stats.h"
#include "shm/trajectory_ring.h"
#include "shm/weight_slot.h"

namespace rz {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<uint32_t>* g_signal_flag = nullptr;

extern "C" void on_stop_signal(int) {
  // A lock-free atomic store is async-signal-safe; nothing else happens here.
  if (g_signal_flag) g_signal_flag->store(1, std::memory_order_release);
}

// LaneWriter::write() watches ONE stop word while it waits for space. The actor must stop
// on three events: the run's stop flag (in shm), its own SIGTERM/SIGINT (process-local),
// and the death of the run's creator (a SIGKILLed supervisor sets no flag; without this
// check its actors would play on forever, orphaned). This thread folds the first and the
// last into the process-local word: it sleeps on the control block's futex and probes the
// creator once a second. It blocks the stop signals so that they go to the main thread,
// whose futex sleeps they interrupt.
class StopWatcher {
 public:
  StopWatcher(shm::Segment& segment, std::atomic<uint32_t>* local) {
    shm::ControlBlock& control = segment.control();
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    thread_ = std::thread([this, &segment, &control, local] {
      for (int tick = 1;
           !done_.load(std::memory_order_acquire) && !local->load(std::memory_order_acquire);
           ++tick) {
        if (control.wait_for_stop(std::chrono::milliseconds(100))) {
          local->store(1, std::memory_order_release);
          break;
        }
        if (shm::StatsWriter* w = blocked_writer_.load(std::memory_order_acquire)) w->heartbeat();
        if (tick % 10 == 0 && !segment.creator_alive()) {
          creator_gone_.store(true, std::memory_order_relaxed);
          local->store(1, std::memory_order_release);
          break;
        }
      }
    });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  ~StopWatcher() {
    done_.store(true, std::memory_order_release);
    thread_.join();  // returns within one 100 ms sleep
  }
  bool creator_gone() const { return creator_gone_.load(std::memory_order_relaxed); }

  // While the main thread is blocked on a full lane (back-pressure from the learner, which
  // can last minutes), this thread keeps its heartbeat fresh so that monitors do not take a
  // waiting actor for a hung one. Set to nullptr when the wait is over.
  void heartbeat_for(shm::StatsWriter* writer) {
    blocked_writer_.store(writer, std::memory_order_release);
  }

 private:
  std::atomic<bool> done_{false};
  std::atomic<bool> creator_gone_{false};
  std::atomic<shm::StatsWriter*> blocked_writer_{nullptr};
  std::thread thread_;
};

// The actor's stats slot: handles registered once, updated per game and per round.
struct ActorStats {
  explicit ActorStats(shm::StatsWriter& w)
      : writer(w),
        games(w.metric("games")),
        positions(w.metric("positions")),
        records_committed(w.metric("records_committed")),
        bytes_committed(w.metric("bytes_committed")),
        simulations(w.metric("simulations")),
        resigned_games(w.metric("resigned_games")),
        resign_disabled_games(w.metric("resign_disabled_games")),
        resign_false_pos(w.metric("resign_false_pos")),
        records_too_large(w.metric("records_too_large")),
        weight_switches(w.metric("weight_switches")),
        lane_wait_ms(w.metric("lane_wait_ms")),
        weight_version(w.gauge("weight_version")),
        positions_per_s(w.gauge("positions_per_s")),
        sims_per_s(w.gauge("sims_per_s")),
        eval_lookups(w.metric("eval_lookups")),
        eval_saved(w.metric("eval_saved")),
        eval_cache_hit_rate(w.gauge("eval_cache_hit_rate")),
        precision_bf16(w.gauge("precision_bf16")) {}

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

void install_stop_signal_handlers(std::atomic<uint32_t>* flag) {
  g_signal_flag = flag;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a futex sleep returns EINTR and re-checks the flag
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

Actor::Actor(const RunConfig& config, uint32_t slot, std::atomic<uint32_t>* interrupted)
    : config_(config), slot_(slot), interrupted_(interrupted) {}

void Actor::run() {
  const std::string who = fmt::format("ringzero-actor[{}]", slot_);
  auto log = [&](const std::string& line) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), line.c_str());
  };

  const std::unique_ptr<Game> game = make_game(config_.game);
  if (config_.shm.name.empty())
    throw ActorError(
        "no shared-memory segment given: pass --shm NAME, --run-dir DIR or "
        "--config RUN/config.ini");

  // 1. Attach and take the lane.
  const auto segment = shm::Segment::open(config_.shm.name);
  if (slot_ >= segment->sizes().lanes)
    throw ActorError(
        fmt::format("--slot {} is out of range: segment {} has {} lanes, use a "
                    "slot in [0, {}]",
                    slot_, segment->name(), segment->sizes().lanes, segment->sizes().lanes - 1));
  shm::ControlBlock& control = segment->control();
  // The lane first: its owner mutex decides who is slot K, so a second actor started on a
  // live slot is refused before it can touch the live actor's stats.
  shm::LaneWriter lane(*segment, slot_);
  // The watcher's thread may touch the stats slot, so the slot outlives it.
  shm::StatsWriter writer(*segment, shm::Role::kActor, slot_);
  struct ExitedOnLeave {  // whatever way run() ends, the slot says so
    shm::StatsWriter& w;
    ~ExitedOnLeave() { w.set_state(shm::ProcessState::kExited); }
  } exited_on_leave{writer};
  ActorStats stats(writer);
  StopWatcher watcher(*segment, interrupted_);
  auto stopping = [&] { return interrupted_->load(std::memory_order_acquire) != 0; };
  shm::WeightSlot weights(*segment);
  log(fmt::format("attached to {} lane {}{} (next record {}), game {}, network {}", segment->name(),
                  slot_, lane.took_over() ? " (taken over)" : "", lane.next_sequence(),
                  game->spec(), config_.net.shape_string()));

  // 2. The first weights. Until the learner publishes, there is nothing worth playing.
  while (weights.latest_version() == 0) {
    if (stopping()) {
      if (watcher.creator_gone())
        log(fmt::format("the run's creator (pid {}) is gone", segment->creator_pid()));
      log("stopped before the first weights were published");
      return;
    }
    writer.heartbeat();
    control.wait_for_stop(std::chrono::milliseconds(100));  // a signal wakes it too
  }

  // One round evaluates up to games_in_flight * virtual_leaves leaves; the evaluator
  // preallocates its input for max_batch and splits bigger rounds into chunks, so the cap
  // bounds memory (65536 games x 256 leaves would be gigabytes) without changing results.
  constexpr int kMaxForwardBatch = 4096;
  const int max_batch = static_cast<int>(std::min<int64_t>(
      int64_t(config_.actor.games_in_flight) * config_.mcts.virtual_leaves, kMaxForwardBatch));
  NetEvaluator net(*game, config_.net, max_batch, config_.actor.threads);
  // Every leaf goes through the cache; answers of old weights are dropped on a switch.
  std::unique_ptr<CachingEvaluator> cache;
  try {
    cache =
        std::make_unique<CachingEvaluator>(*game, net, size_t(config_.actor.eval_cache_mib) << 20);
  } catch (const std::bad_alloc&) {
    throw ActorError(
        fmt::format("actor.eval_cache_mib={} does not fit in memory: use a smaller "
                    "cache (default 32, 0 = off)",
                    config_.actor.eval_cache_mib));
  }
  CachingEvaluator& evaluator = *cache;
  std::vector<uint8_t> blob;
  // Loads a blob into the evaluator; a blob of another network is fatal (the run's config
  // and the learner disagree, and no amount of waiting fixes that).
  auto load = [&](uint64_t version) {
    try {
      net.load_blob(blob.data(), blob.size());
    } catch (const WeightBlobError& e) {
      throw ActorError(
          fmt::format("weights version {} in {} do not fit this actor's network ({}): {}", version,
                      segment->name(), net.description(), e.what()));
    }
    evaluator.invalidate();
    writer.set_gauge(stats.weight_version, double(version));
  };
  uint64_t version = weights.read(&blob);
  load(version);
  // The forward precision, measured at the batch a round forms when "auto".
  try {
    if (config_.actor.precision == "auto") {
      log(net.choose_precision_by_measurement(max_batch));
    } else if (config_.actor.precision == "bf16") {
      net.set_precision(Precision::kBf16);
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
  writer.set_gauge(stats.precision_bf16, net.precision() == Precision::kBf16 ? 1.0 : 0.0);
  log(fmt::format("evaluation cache {} MiB ({} entries)", config_.actor.eval_cache_mib,
                  evaluator.capacity_entries()));
  log(fmt::format("playing with weights version {}", version));

  // 3. Self-play.
  SelfPlayDriver driver(*game, evaluator, config_.mcts, config_.actor.games_in_flight,
                        actor_seed(config_.seed, slot_, writer.restarts()));
  driver.set_weight_version(version);
  writer.set_state(shm::ProcessState::kRunning);

  const uint64_t spec_hash = game_spec_hash(game->spec());
  const uint64_t max_record = segment->sizes().max_record_bytes;
  std::vector<FinishedGame> finished;
  std::vector<uint8_t> record;
  uint64_t sims_reported = 0, lookups_reported = 0, saved_reported = 0;
  while (!stopping()) {
    // 5. Newer weights? One atomic load when there are none.
    if (weights.latest_version() > version) {
      try {
        if (const uint64_t v = weights.read_if_newer(version, &blob)) {
          load(v);
          version = v;
          driver.set_weight_version(v);
          writer.add(stats.weight_switches, 1);
          log(fmt::format("switched to weights version {}", v));
        }
      } catch (const shm::ShmError& e) {
        // The publisher outran every copy attempt; the next round tries again.
        log(fmt::format("weights not read this round: {}", e.what()));
      }
    }

    finished.clear();
    driver.run_round(&finished);

    // 4. One record per finished game; the lane sequence number is the game's id.
    for (const FinishedGame& g : finished) {
      encode_trajectory(g, {spec_hash, slot_, lane.next_sequence()}, &record);
      if (record.size() > max_record) {
        writer.add(stats.records_too_large, 1);
        log(fmt::format("dropped a {}-byte record: shm.max_record_bytes is {}", record.size(),
                        max_record));
        continue;
      }
      const auto write_start = Clock::now();
      watcher.heartbeat_for(&writer);
      const bool written = lane.write(record.data(), record.size(), interrupted_);
      watcher.heartbeat_for(nullptr);
      writer.add(
          stats.lane_wait_ms,
          uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - write_start)
                       .count()));
      if (!written) break;  // stopping
      writer.add(stats.records_committed, 1);
      writer.add(stats.bytes_committed, record.size());
      writer.add(stats.games, 1);
      writer.add(stats.positions, g.positions.size());
      if (g.resigned) writer.add(stats.resigned_games, 1);
      if (g.resign_disabled) writer.add(stats.resign_disabled_games, 1);
      if (g.would_have_resigned_wrongly) writer.add(stats.resign_false_pos, 1);
    }
    const uint64_t sims = driver.simulations();
    writer.add(stats.simulations, sims - sims_reported);
    sims_reported = sims;
    writer.add(stats.eval_lookups, evaluator.lookups() - lookups_reported);
    writer.add(stats.eval_saved, evaluator.saved() - saved_reported);
    lookups_reported = evaluator.lookups();
    saved_reported = evaluator.saved();
    writer.set_gauge(stats.eval_cache_hit_rate, evaluator.hit_rate());
    stats.update_rates(Clock::now());
    writer.heartbeat();
  }

  // 6. Clean stop: the games in flight are abandoned (never half-written), the lane is
  // released by ~LaneWriter.
  writer.set_state(shm::ProcessState::kStopping);
  if (watcher.creator_gone())
    log(fmt::format("the run's creator (pid {}) is gone: stopping", segment->creator_pid()));
  log(fmt::format("stopping: {} records committed on lane {} in total", lane.next_sequence(),
                  slot_));
}

}  // namespace rz
