// SamplesPerInsertLimiter: keeps training at a target ratio of samples trained per new
// training position, in the style of Reverb's SampleToInsertRatio rate limiter.
//
// Self-play makes positions, training consumes samples. With a ratio R the learner may have
// trained at most R samples for every full-search position that entered the replay window,
// and only once the window holds min_replay positions. When it is ahead it waits for data
// (the caller blocks on RingReader::wait, no spinning). It cannot slow the actors down, so
// when it is behind (more data than it can train on at ratio R) it reports how far behind it
// is and positions age out of the window untrained; the metrics show that as
// samples_per_position below R.
//
// Both counts must be of the same epoch: the replay window's, i.e. the segment's (the
// window's targets_inserted() and samples_trained(), kept side by side in the learner
// region). The checkpoint's step is of another epoch: `launch.sh start --resume` makes a new
// segment with an empty window but restores the run's cumulative step, and comparing the two
// stalled a resumed learner until the new segment had seen step * batch / R positions. A
// restarted learner in the same segment continues the region's count, so it neither
// over-trains the surviving window nor waits for data it is owed.
#pragma once

#include <cstdint>

namespace rz {

class SamplesPerInsertLimiter {
 public:
  // samples_per_position <= 0 disables the ratio (train whenever min_replay is met).
  SamplesPerInsertLimiter(double samples_per_position, uint64_t min_replay, uint64_t batch)
      : ratio_(samples_per_position), min_replay_(min_replay), batch_(batch) {}

  // May one more batch be trained now? `samples_trained`: samples trained on this window
  // (ReplayWindow::samples_trained); `positions_inserted`: target positions ever inserted
  // into it (ReplayWindow::targets_inserted); `window_targets`: target positions in it now.
  bool can_train(uint64_t samples_trained, uint64_t positions_inserted,
                 uint64_t window_targets) const {
    if (window_targets < min_replay_ || window_targets == 0) return false;
    if (ratio_ <= 0) return true;
    return static_cast<double>(samples_trained + batch_) <=
           ratio_ * static_cast<double>(positions_inserted);
  }

  // Samples the learner could train right now without exceeding the ratio, beyond one batch
  // of slack: > 0 means the learner is behind the actors. Same counts as can_train().
  double samples_behind(uint64_t samples_trained, uint64_t positions_inserted) const {
    if (ratio_ <= 0) return 0;
    double allowed = ratio_ * static_cast<double>(positions_inserted);
    double behind = allowed - static_cast<double>(samples_trained) - static_cast<double>(batch_);
    return behind > 0 ? behind : 0;
  }

 private:
  double ratio_;
  uint64_t min_replay_;
  uint64_t batch_;
};

}  // namespace rz
