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

}  // namespace rz::launch
