#include "launch/run_summary.h"

#include <fmt/format.h>

#include "common/checkpoint_file.h"

namespace rz::launch {

std::string run_summary_line(const std::vector<shm::SlotSnapshot>& slots,
                             const std::string& run_dir) {
  uint64_t games = 0, positions = 0, steps = 0;
  double train_seconds = 0;
  for (const shm::SlotSnapshot& s : slots) {
    if (s.role == shm::Role::kActor) {
      games += s.value("games");
      positions += s.value("positions");
    } else if (s.role == shm::Role::kLearner) {
      steps = s.value("step");
      for (const shm::MetricSnapshot& m : s.metrics)
        if (m.name == "train_seconds" && m.kind == shm::MetricKind::kGauge) train_seconds = m.gauge();
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

}  // namespace rz::launch
