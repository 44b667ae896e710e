#include "launch/restart_policy.h"

#include <algorithm>

#include <fmt/format.h>

namespace rz::launch {

bool RestartPolicy::died(Clock::time_point now) {
  deaths_.push_back(now);
  while (!deaths_.empty() && now - deaths_.front() > options_.crash_loop_window) {
    deaths_.pop_front();
  }
  if (static_cast<int>(deaths_.size()) >= options_.crash_loop_limit) {
    gave_up_ = true;
    reason_ = fmt::format(
        "{} exits within {} s", deaths_.size(),
        std::chrono::duration_cast<std::chrono::seconds>(options_.crash_loop_window).count());
    return false;
  }
  // A process that ran long enough was healthy: its death starts a fresh backoff sequence.
  if (backoff_.count() == 0 || now - last_start_ >= options_.stable_after) {
    backoff_ = options_.initial_backoff;
  } else {
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  }
  next_start_ = now + backoff_;
  return true;
}

void RestartPolicy::reset() {
  deaths_.clear();
  backoff_ = std::chrono::milliseconds(0);
  gave_up_ = false;
  reason_.clear();
}

}  // namespace rz::launch
