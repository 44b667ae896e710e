// SamplesPerInsertLimiter: keeps training at a target ratio of samples trained per new
// training position, in the style of Reverb's SampleToInsertRatio rate limiter.
//
// Self-play makes positions, training consumes samples. With a ratio R the learner may have
// trained at most R samples for every full-search position that ever entered the replay
// window (cumulative over the run: after a restart the resumed step counts, so samples lost
// with the killed process are trained again) and only once the window holds min_replay
// positions. When it is ahead it waits for data (the caller blocks on RingReader::wait, no
// spinning). It cannot slow the actors down, so when it is behind (more data than it can
// train on at ratio R) it reports how far behind it is and positions age out of the window
// untrained; the metrics show that as samples_per_position below R.
#pragma once

#include <cstdint>

namespace rz {

class SamplesPerInsertLimiter {
 public:
  // samples_per_position <= 0 disables the ratio (train whenever min_replay is met).
  SamplesPerInsertLimiter(double samples_per_position, uint64_t min_replay, uint64_t batch)
      : ratio_(samples_per_position), min_replay_(min_replay), batch_(batch) {}

  // May one more batch be trained now? `samples_trained`: cumulative samples trained;
  // `positions_inserted`: cumulative target positions inserted; `window_targets`: target
  // positions currently sampleable.
  bool can_train(uint64_t samples_trained, uint64_t positions_inserted,
                 uint64_t window_targets) const {
    if (window_targets < min_replay_ || window_targets == 0) return false;
    if (ratio_ <= 0) return true;
    return static_cast<double>(samples_trained + batch_) <=
           ratio_ * static_cast<double>(positions_inserted);
  }

  // Samples the learner could train right now without exceeding the ratio, beyond one batch
  // of slack: > 0 means the learner is behind the actors.
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
