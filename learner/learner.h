// Learner: the training role. Drains trajectories from the ring into the replay window,
// trains the network at a fixed ratio of samples per new position, publishes weights to the
// actors, checkpoints, and reports metrics. learner/main.cc tells the story; this class
// holds the state that story needs.
//
// One iteration of run():
//   drain     move every committed ring record into the replay window (validate, insert,
//             commit, release: see replay_window.h for why nothing is lost in a crash);
//   train     if the rate limiter allows, one SGD step on a uniform minibatch;
//   publish   every learner.publish_every steps, the weights to the WeightSlot;
//   persist   every learner.checkpoint_every steps or learner.checkpoint_seconds;
//   report    every learner.metrics_seconds, a metrics.csv row, stats and a log line;
//   wait      if there was nothing to do, sleep on the ring's doorbell (no spinning).
// It stops on its stop word (SIGTERM/SIGINT, or the run's creator gone: common/role_process.h),
// the run's stop flag, learner.max_steps, or run.minutes of training
// (common/run_clock.h; it then sets the stop flag, ending the whole run): it writes its final
// checkpoint before printing anything, since its output may have no reader any more.
// Output never stops it: a checkpoint that cannot be written (disk full) is logged and
// retried at the next interval; only a final one that cannot be written makes run() fail.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/run_config.h"
#include "shm/segment.h"

namespace rz {

class Learner {
 public:
  // Attaches to the segment's ring, weight slot, stats and learner region; builds the
  // network (fresh, or from the newest valid checkpoint when `resume`). Throws
  // std::runtime_error with a one-line message on any setup problem, before touching the
  // segment or the run directory when the problem is the checkpoints (learner/checkpoint.h).
  // `stop` is the process's stop word (common/role_process.h).
  Learner(shm::Segment& segment, const RunConfig& config, const std::string& run_dir, bool resume,
          const std::atomic<uint32_t>* stop);
  ~Learner();

  // Publishes the initial weights, then loops until stopped. Returns the exit status: 0, or 1
  // if the final checkpoint could not be written (the one-line reason is on stderr).
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rz
