#include "learner/learner.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <set>
#include <utility>

#include "common/checkpoint_file.h"
#include "common/durable_file.h"
#include "common/game.h"
#include "common/net/net_evaluator.h"
#include "common/run_clock.h"
#include "common/run_schedule.h"
#include "common/stat_names.h"
#include "common/tensorboard_log.h"
#include "learner/batch_builder.h"
#include "learner/checkpoint.h"
#include "learner/learner_region.h"
#include "learner/metrics_csv.h"
#include "learner/rate_limiter.h"
#include "learner/record_decode.h"
#include "learner/replay_window.h"
#include "learner/starting_point.h"
#include "learner/trainer.h"
#include "learner/version_floor.h"
#include "shm/stats.h"
#include "shm/trajectory_ring.h"
#include "shm/weight_slot.h"

namespace rz {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double wall_seconds() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// The reason class of a decode error, for "logged once per kind": the text before its first
// detail (a digit, '(' or ':'), e.g. "checksum mismatch" of "checksum mismatch (stored ...)".
std::string error_kind(const std::string& error) {
  size_t end = error.find_first_of("0123456789(:");
  std::string kind = error.substr(0, end);
  while (!kind.empty() && kind.back() == ' ') kind.pop_back();
  return kind;
}

// Prints one line and flushes it; never throws. The supervisor stamps each line of our
// output with time and role ("<time> learner: <text>"), so the text carries no role prefix.
// Output is best-effort: once the supervisor is gone its pipe has no reader, writes fail
// with EPIPE (SIGPIPE is ignored, main.cc), and the shutdown must still write the checkpoint.
template <typename... Args>
void log_line(std::FILE* out, fmt::format_string<Args...> format, Args&&... args) noexcept {
  try {
    std::string line = fmt::format(format, std::forward<Args>(args)...);
    line += '\n';
    std::fputs(line.c_str(), out);
    std::fflush(out);
  } catch (...) {
  }
}

// Records drained per iteration before the learner trains again: keeps training going while
// a backlog is moved, and keeps the ring moving while training.
constexpr int kMaxDrainPerIteration = 256;

}  // namespace

struct Learner::Impl {
  Impl(shm::Segment& seg, const RunConfig& cfg, const std::string& dir, bool resume,
       const std::atomic<uint32_t>* stop_word);

  void drain_lanes(int* drained);
  void train_one_step();
  void publish_weights();
  bool save_checkpoint(bool final);
  void report();
  bool should_stop() const;

  shm::Segment& segment;
  const std::atomic<uint32_t>* stop_word;
  RunConfig config;
  std::string run_dir;
  // Decided before anything else is built: a refusal must leave the segment and run
  // directory exactly as they were.
  StartingPoint start;
  std::unique_ptr<Game> game;
  Trainer trainer;
  std::mt19937_64 rng;
  LearnerProgress progress;
  // Training time of the whole run; started in run(), from the checkpoint's total.
  std::unique_ptr<RunClock> clock;

  shm::RingReader reader;
  shm::WeightSlot weight_slot;
  shm::StatsWriter stats;
  ReplayWindow window;
  BatchBuilder batch_builder;
  Batch batch;
  SamplesPerInsertLimiter limiter;
  MetricsCsv metrics;
  WeightVersionFloor version_floor;
  TensorBoardLog tensorboard;  // the same rows for TensorBoard, plus the learning rate

  // Stats handles.
  int m_step, m_version, m_consumed, m_replay, m_samples, m_bad, m_duplicates, m_ring_corrupt,
      m_undecodable, m_loss_total, m_loss_policy, m_loss_value, m_device_cuda, m_behind,
      m_train_seconds;

  // Interval accumulators for the metrics row.
  Clock::time_point interval_start = Clock::now();
  Clock::time_point last_checkpoint = Clock::now();
  double loss_sum[3] = {0, 0, 0};
  uint64_t loss_steps = 0;
  uint64_t interval_positions = 0, interval_samples = 0;
  double lag_sum = 0;
  uint64_t lag_games = 0;
  StepLosses last_losses;
  std::set<std::string> logged_bad_kinds;
  uint64_t ring_corrupt_reported = 0;
  FinishedGame decoded;
  std::string decode_error;
};

Learner::Impl::Impl(shm::Segment& seg, const RunConfig& cfg, const std::string& dir, bool resume,
                    const std::atomic<uint32_t>* stop)
    : segment(seg),
      stop_word(stop),
      config(cfg),
      run_dir(dir),
      start(choose_starting_point(dir, resume)),
      game(make_game(cfg.game)),
      trainer(*game, cfg, cfg.seed * 0x9E3779B97F4A7C15ULL + 1),
      rng(cfg.seed ^ 0x5bd1e995),
      reader(seg),
      weight_slot(seg),
      stats(seg, shm::Role::kLearner, 0),
      window(seg.learner_region(), seg.learner_region_bytes(),
             static_cast<uint64_t>(cfg.learner.replay_positions), seg.sizes().lanes,
             replay_game_tag(game->spec())),
      batch_builder(*game, cfg.learner.batch_size,
                    static_cast<float>(cfg.learner.value_target_q)),
      limiter(cfg.learner.samples_per_position, static_cast<uint64_t>(cfg.learner.min_replay),
              static_cast<uint64_t>(cfg.learner.batch_size)),
      metrics(dir + "/metrics.csv"),
      version_floor(dir),
      tensorboard(dir, "learner") {
  m_step = stats.metric(stat::learner::kStep);
  m_version = stats.metric(stat::learner::kPublishedVersion);
  m_consumed = stats.metric(stat::learner::kRecordsConsumed);
  m_replay = stats.metric(stat::learner::kReplayPositions);
  m_samples = stats.metric(stat::learner::kSamplesTrained);
  m_bad = stats.metric(stat::learner::kBadRecords);
  m_duplicates = stats.metric(stat::learner::kDuplicatesSkipped);
  // Records the ring itself refused (damaged header or checksum): never reach decode.
  m_ring_corrupt = stats.metric(stat::learner::kRingCorruptSkipped);
  // Window entries that no longer decode when sampled (batch_builder.h): skipped, counted.
  m_undecodable = stats.metric(stat::learner::kWindowUndecodable);
  m_loss_total = stats.gauge(stat::learner::kLossTotal);
  m_loss_policy = stats.gauge(stat::learner::kLossPolicy);
  m_loss_value = stats.gauge(stat::learner::kLossValue);
  m_device_cuda = stats.gauge(stat::learner::kDeviceCuda);
  m_behind = stats.gauge(stat::learner::kSamplesBehind);
  m_train_seconds = stats.gauge(stat::learner::kTrainSeconds);
  stats.set_gauge(m_device_cuda, trainer.on_cuda() ? 1.0 : 0.0);
  // On the CPU, keep LibTorch's large per-step activations in the heap: without it every
  // forward/backward re-faults them as fresh pages (docs/performance.md, learner section).
  if (!trainer.on_cuda()) keep_activation_memory_in_heap();
  // The segment's count (this window's), not the run's: they differ after start --resume.
  stats.set(m_bad, window.bad_records());

  ReplayCounts c = window.counts();
  if (!start.path.empty()) {
    progress = load_learner_checkpoint(start.path, config, *game, trainer, &rng);
    log_line(stdout, "resumed from {} (step {}, weight version {}, {:.1f} s of training)",
             start.path, progress.step, progress.weight_version, progress.train_seconds);
    // Only now, with a good checkpoint loaded, are the newer damaged ones moved out of the
    // way: a new checkpoint of their step must not replace them, nor pruning count them.
    for (const auto& [path, reason] : start.skipped)
      log_line(stderr, "warning: skipping checkpoint: {}; kept as {}", reason,
               set_aside_corrupt_checkpoint(path));
  } else if (resume) {
    // The learner died before its first checkpoint (early in a run). Its replay window lives
    // in the segment, not the checkpoint: it is kept, so no committed game is lost.
    log_line(stdout,
             "--resume: no checkpoint in {} yet; starting from fresh weights at step 0 with "
             "the segment's replay window kept ({} positions, {} records)",
             checkpoint_dir(run_dir), c.positions_in_window, c.records_in_window);
  }
  tensorboard.start_session(static_cast<int64_t>(progress.step), wall_seconds());
  log_line(stdout, "{}", trainer.device_choice());
  log_line(stdout,
           "game {}, net {}, device {}, replay window {} positions ({} records, {} evicted) of "
           "at most {}",
           game->spec(), config.net.shape_string(), trainer.device_name(), c.positions_in_window,
           c.records_in_window, c.records_evicted, config.learner.replay_positions);
}

bool Learner::Impl::should_stop() const {
  return stop_word->load(std::memory_order_relaxed) != 0 || segment.control().stop_requested();
}

void Learner::Impl::drain_lanes(int* drained) {
  *drained = 0;
  while (*drained < kMaxDrainPerIteration) {
    std::optional<shm::RingReader::Record> rec = reader.peek();
    if (!rec) break;
    ++*drained;
    // Already in the window: a previous learner committed it and was killed before releasing.
    if (window.contains(rec->lane, rec->sequence)) {
      stats.add(m_duplicates, 1);
      reader.release(*rec);
      continue;
    }
    if (!decode_record(*game, rec->data, rec->size, &decoded, &decode_error)) {
      // Counted in the window's commit together with its sequence, then released: a learner
      // killed in between finds it contained and skips it, so it is counted exactly once.
      window.skip_bad(rec->lane, rec->sequence);
      stats.set(m_bad, window.bad_records());
      if (logged_bad_kinds.insert(error_kind(decode_error)).second)
        log_line(stderr,
                 "skipping bad record (lane {}, sequence {}): {} (further records with this "
                 "problem are counted in bad_records, not logged)",
                 rec->lane, rec->sequence, decode_error);
      reader.release(*rec);
      continue;
    }
    std::vector<uint16_t> targets = target_positions(decoded);
    window.insert(rec->lane, rec->sequence, rec->data, rec->size,
                  static_cast<uint32_t>(decoded.positions.size()), targets);
    // Only now, with the record committed in the window, may its lane bytes be freed.
    reader.release(*rec);
    stats.add(m_consumed, 1);
    interval_positions += targets.size();
    if (!decoded.positions.empty()) {
      double versions = 0;
      for (const PositionRecord& p : decoded.positions) versions += p.weight_version;
      lag_sum += static_cast<double>(progress.weight_version) - versions / decoded.positions.size();
      lag_games += 1;
    }
  }
}

void Learner::Impl::train_one_step() {
  batch_builder.build(window, rng, &batch);
  double lr =
      learning_rate_at(config.learner, static_cast<int64_t>(progress.step), clock->fraction());
  last_losses = trainer.train_step(batch, lr);
  progress.step += 1;
  loss_sum[0] += last_losses.total;
  loss_sum[1] += last_losses.policy;
  loss_sum[2] += last_losses.value;
  loss_steps += 1;
  interval_samples += static_cast<uint64_t>(batch.size);
  window.add_samples_trained(static_cast<uint64_t>(batch.size));
  stats.set(m_step, progress.step);
  stats.set(m_samples, progress.step * static_cast<uint64_t>(config.learner.batch_size));
  stats.set(m_undecodable, batch_builder.undecodable_skipped());
}

void Learner::Impl::publish_weights() {
  std::vector<uint8_t> blob = trainer.weights_blob();
  // Versions never go back across any restart (learner/version_floor.h): reserved on disk
  // first. Unreservable (disk full): this publish waits for the next interval, except the
  // first one, without which the actors have no weights at all.
  const uint64_t version =
      version_floor.next_version(weight_slot.latest_version(), progress.weight_version);
  try {
    version_floor.cover(version);
  } catch (const DurableWriteError& e) {
    if (progress.weight_version == 0 && weight_slot.latest_version() == 0) throw;
    log_line(stderr, "weights not published: {}; training continues and retries", e.what());
    return;
  }
  progress.weight_version =
      weight_slot.publish(blob.data(), blob.size(), trainer.layout_tag(), version);
  stats.set(m_version, progress.weight_version);
}

// A failed write (disk full, quota, I/O error) is reported, not fatal: training goes on and
// the next interval tries again. Crash-looping would lose more (every restart rewinds to the
// last checkpoint) and would not free a byte. The previous checkpoints are untouched.
// At shutdown (`final`) there is no next interval: the caller exits non-zero.
bool Learner::Impl::save_checkpoint(bool final) {
  last_checkpoint = Clock::now();  // also after a failure: retry at the next interval
  progress.train_seconds = clock->seconds();
  try {
    std::string path = save_learner_checkpoint(run_dir, config, *game, trainer, progress, rng);
    log_line(stdout, "checkpoint {} (step {})", path, progress.step);
    return true;
  } catch (const CheckpointError& e) {
    if (final)
      log_line(stderr,
               "final checkpoint at step {} not written: {}; free space in {}, then resume "
               "(the steps after the last written checkpoint are lost)",
               progress.step, e.what(), checkpoint_dir(run_dir));
    else
      log_line(stderr,
               "checkpoint at step {} not written: {}; free space in {} (training continues "
               "and retries at the next checkpoint interval)",
               progress.step, e.what(), checkpoint_dir(run_dir));
    return false;
  }
}

void Learner::Impl::report() {
  double dt = seconds_since(interval_start);
  double behind = limiter.samples_behind(window.samples_trained(), window.targets_inserted());
  MetricsRow row;
  row.time = wall_seconds();
  row.step = progress.step;
  if (loss_steps > 0) {
    row.loss_total = loss_sum[0] / loss_steps;
    row.loss_policy = loss_sum[1] / loss_steps;
    row.loss_value = loss_sum[2] / loss_steps;
  } else {
    row.loss_total = row.loss_policy = row.loss_value = std::nan("");
  }
  row.replay_positions = window.positions();
  row.new_positions_per_s = dt > 0 ? interval_positions / dt : 0;
  row.samples_per_s = dt > 0 ? interval_samples / dt : 0;
  row.weight_version = progress.weight_version;
  row.mean_version_lag = lag_games > 0 ? lag_sum / lag_games : 0;
  row.records_consumed = stats.get(m_consumed);
  row.bad_records = stats.get(m_bad);
  row.samples_per_position =
      interval_positions > 0 ? static_cast<double>(interval_samples) / interval_positions : 0;
  row.samples_behind = behind;
  // Rows only when something happened: an idle learner (waiting for the first games) does not
  // write zero-loss rows that would look like training.
  if (loss_steps > 0 || interval_positions > 0) {
    metrics.append(row);
    auto scalars = metrics_scalars(row);
    scalars.emplace_back(
        "learning_rate",
        learning_rate_at(config.learner, static_cast<int64_t>(row.step), clock->fraction()));
    tensorboard.write_scalars(static_cast<int64_t>(row.step), row.time, scalars);
  }
  stats.set(m_replay, window.positions());
  stats.set_gauge(m_behind, behind);
  stats.set_gauge(m_train_seconds, clock->seconds());
  stats.add(m_ring_corrupt, reader.corrupt_records_skipped() - ring_corrupt_reported);
  ring_corrupt_reported = reader.corrupt_records_skipped();
  if (loss_steps > 0) {
    stats.set_gauge(m_loss_total, row.loss_total);
    stats.set_gauge(m_loss_policy, row.loss_policy);
    stats.set_gauge(m_loss_value, row.loss_value);
  }
  // No step in this interval: no loss was measured, and "0.0000" would read as a perfect one.
  const std::string losses = loss_steps > 0
                                 ? fmt::format("{:.4f} (policy {:.4f} value {:.4f})",
                                               row.loss_total, row.loss_policy, row.loss_value)
                                 : "- (policy - value -)";
  log_line(stdout,
           "step {} loss {} replay {} new/s {:.1f} samples/s {:.1f} version {} lag {:.2f} "
           "consumed {} bad {}",
           row.step, losses, row.replay_positions, row.new_positions_per_s, row.samples_per_s,
           row.weight_version, row.mean_version_lag, row.records_consumed, row.bad_records);
  interval_start = Clock::now();
  loss_sum[0] = loss_sum[1] = loss_sum[2] = 0;
  loss_steps = interval_positions = interval_samples = 0;
  lag_sum = 0;
  lag_games = 0;
}

Learner::Learner(shm::Segment& segment, const RunConfig& config, const std::string& run_dir,
                 bool resume, const std::atomic<uint32_t>* stop)
    : impl_(std::make_unique<Impl>(segment, config, run_dir, resume, stop)) {}

Learner::~Learner() = default;

int Learner::run() {
  Impl& s = *impl_;
  const LearnerConfig& lc = s.config.learner;
  s.segment.control().learner_pid.store(static_cast<uint32_t>(::getpid()));
  s.clock = std::make_unique<RunClock>(s.config.minutes, s.progress.train_seconds);
  s.stats.set_gauge(s.m_train_seconds, s.clock->seconds());
  s.publish_weights();
  log_line(stdout, "published starting weights as version {}", s.progress.weight_version);
  s.stats.set(s.m_step, s.progress.step);
  s.stats.set_state(shm::ProcessState::kRunning);
  uint64_t steps_since_publish = 0;
  while (!s.should_stop()) {
    int drained = 0;
    s.drain_lanes(&drained);
    bool trained = false;
    if (s.limiter.can_train(s.window.samples_trained(), s.window.targets_inserted(),
                            s.window.targets())) {
      s.train_one_step();
      trained = true;
      if (++steps_since_publish >= static_cast<uint64_t>(lc.publish_every)) {
        s.publish_weights();
        steps_since_publish = 0;
      }
      if (s.progress.step % static_cast<uint64_t>(lc.checkpoint_every) == 0 ||
          (lc.checkpoint_seconds > 0 && seconds_since(s.last_checkpoint) >= lc.checkpoint_seconds))
        s.save_checkpoint(false);
    }
    if (seconds_since(s.interval_start) >= lc.metrics_seconds) s.report();
    s.stats.heartbeat();
    if (lc.max_steps > 0 && s.progress.step >= static_cast<uint64_t>(lc.max_steps)) break;
    // run.minutes reached: the whole run ends (the supervisor stops every role on the flag);
    // this learner writes its final checkpoint below like on any stop.
    if (s.clock->expired()) {
      log_line(stdout, "run.minutes={} of training reached at step {}: stopping the run",
               s.config.minutes, s.progress.step);
      s.segment.control().request_stop();
      break;
    }
    // Nothing to drain and nothing the limiter allows: sleep until an actor commits a record.
    if (!trained && drained == 0) s.reader.wait(std::chrono::milliseconds(100));
  }
  s.stats.set_state(shm::ProcessState::kStopping);
  if (steps_since_publish > 0) s.publish_weights();
  // The checkpoint before any output: with the supervisor gone (its pipe closed) the lines
  // below may go nowhere, but the training state must reach the disk.
  bool saved = s.progress.step == 0 || s.save_checkpoint(true);
  s.report();
  s.stats.set_state(shm::ProcessState::kExited);
  return saved ? 0 : 1;
}

}  // namespace rz
