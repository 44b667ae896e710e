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
// It stops on SIGTERM/SIGINT, the run's stop flag, or learner.max_steps, checkpointing first.
#pragma once

#include <memory>
#include <string>

#include "common/config.h"
#include "shm/segment.h"

namespace rz {

class Learner {
 public:
  // Attaches to the segment's ring, weight slot, stats and learner region; builds the
  // network (fresh, or from the newest valid checkpoint when `resume`). Throws
  // std::runtime_error with a one-line message on any setup problem.
  Learner(shm::Segment& segment, const RunConfig& config, const std::string& run_dir,
          bool resume);
  ~Learner();

  // Publishes the initial weights, then loops until stopped. Returns the exit status.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Installs SIGTERM/SIGINT handlers that make run() finish its step, checkpoint and return.
void install_stop_signal_handlers();

}  // namespace rz
