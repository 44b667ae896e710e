// The one line a run ends with: what it made and where its final checkpoint is.
//
//   run summary: 1234 games, 45678 positions, 9012 learner steps, 30.0 minutes of training;
//   final checkpoint RUN/checkpoints/ckpt-000000009012.rzck
//
// (one line in the log). Built from the run's final counters (RUN/stats.snapshot, cumulative
// over restarts and resumes: stats_snapshot.h) and the newest checkpoint that validates, so it
// says what is on disk, not what a process believed. The supervisor logs it after every clean
// stop: a run that ended itself at run.minutes, and a stopped one alike.
#pragma once

#include <string>
#include <vector>

#include "shm/stats.h"

namespace rz::launch {

std::string run_summary_line(const std::vector<shm::SlotSnapshot>& slots,
                             const std::string& run_dir);

// The training time a checkpoint recorded (its "train_seconds" section; 0 when it has none).
// Throws CheckpointError for a damaged file.
double checkpoint_training_seconds(const std::string& checkpoint);

// `start --resume` of a run that already has its run.minutes of training would stop again at
// once: throws std::runtime_error (one line naming the fix) when the newest checkpoint of
// `run_dir` holds at least `minutes` (> 0) of training.
void check_minutes_left(const std::string& run_dir, double minutes);

}  // namespace rz::launch
