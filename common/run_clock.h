// RunClock: a run's training time, the clock behind run.minutes (`launch.sh start --minutes M`)
// and fractional schedules (common/run_schedule.h).
//
// Training time is the learner's running time summed over its lives: a learner starts its
// clock at what its checkpoint recorded (0 for a fresh run) and adds its own wall time. The
// learner writes the total into every checkpoint ("train_seconds"), so a restarted learner and
// `start --resume` go on counting where the run's state is; a SIGKILLed learner loses the
// time since its last checkpoint together with the steps of that time, so minutes and model
// stay consistent. The learner ends the run (stop flag, final checkpoint) once the clock
// reaches run.minutes. Steady clock: changing the wall clock does not shorten a run.
#pragma once

#include <chrono>

namespace rz {

class RunClock {
 public:
  // `minutes` = run.minutes (0 = the run has no length); `earlier_seconds` = training time of
  // the run's earlier learner lives (from the checkpoint).
  RunClock(double minutes, double earlier_seconds)
      : limit_seconds_(minutes * 60.0),
        earlier_seconds_(earlier_seconds),
        start_(std::chrono::steady_clock::now()) {}

  double seconds() const {
    return earlier_seconds_ +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  // Share of the run done, in [0, 1]; 0 when the run has no length.
  double fraction() const {
    if (limit_seconds_ <= 0) return 0;
    const double f = seconds() / limit_seconds_;
    return f < 1 ? f : 1;
  }
  bool has_limit() const { return limit_seconds_ > 0; }
  bool expired() const { return has_limit() && seconds() >= limit_seconds_; }

 private:
  double limit_seconds_;
  double earlier_seconds_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace rz
