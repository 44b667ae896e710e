#include "launch/run_summary.h"

#include <fmt/format.h>

#include "common/checkpoint_file.h"
#include "common/stat_names.h"

namespace rz::launch {

std::string run_summary_line(const std::vector<shm::SlotSnapshot>& slots,
                             const std::string& run_dir) {
  uint64_t games = 0, positions = 0, steps = 0;
  double train_seconds = 0;
  for (const shm::SlotSnapshot& s : slots) {
    if (s.role == shm::Role::kActor) {
      games += s.value(stat::actor::kGames);
      positions += s.value(stat::actor::kPositions);
    } else if (s.role == shm::Role::kLearner) {
      steps = s.value(stat::learner::kStep);
      for (const shm::MetricSnapshot& m : s.metrics)
        if (m.name == stat::learner::kTrainSeconds && m.kind == shm::MetricKind::kGauge)
          train_seconds = m.gauge();
    }
  }
  std::string checkpoint;
  try {
    checkpoint = latest_valid_checkpoint(run_dir);
  } catch (const std::exception&) {
  }
  return fmt::format(
      "run summary: {} games, {} positions, {} learner steps, {:.1f} minutes of training; "
      "final checkpoint {}",
      games, positions, steps, train_seconds / 60.0,
      checkpoint.empty() ? std::string("none (no learner step yet)") : checkpoint);
}

double checkpoint_training_seconds(const std::string& checkpoint) {
  const auto sections = read_checkpoint_sections(checkpoint);
  auto it = sections.find("train_seconds");
  return it == sections.end() ? 0.0 : bytes_u64(it->second, "train_seconds") / 1000.0;
}

void check_minutes_left(const std::string& run_dir, double minutes) {
  if (minutes <= 0) return;
  const std::string newest = latest_valid_checkpoint(run_dir);
  if (newest.empty()) return;
  const double done = checkpoint_training_seconds(newest);
  if (done >= minutes * 60.0)
    throw std::runtime_error(fmt::format(
        "run {} already has {:.1f} minutes of training, its run.minutes={}: give a longer "
        "--minutes to continue it (--minutes 0 = until stopped)",
        run_dir, done / 60.0, minutes));
}

}  // namespace rz::launch
