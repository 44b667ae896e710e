// RestartPolicy: when to restart a process that died on its own, and when to give up.
//
// Each supervised role (one per actor lane, one for the learner) owns one policy. A death
// schedules the next start after an exponential backoff (initial, doubled per consecutive
// quick death, capped); a process that stayed up for `stable_after` resets the backoff.
// `crash_loop_limit` deaths within `crash_loop_window` mean restarting cannot help (a bad
// config, a broken binary, a full disk): the policy gives up and says why, and a human
// decides (restart-learner resets the learner's policy; stop/start resets everything).
//
// Pure bookkeeping on a caller-supplied clock, so it is unit-tested without processes.
#pragma once

#include <chrono>
#include <deque>
#include <string>

namespace rz::launch {

class RestartPolicy {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::chrono::milliseconds initial_backoff{500};
    std::chrono::milliseconds max_backoff{30000};
    std::chrono::milliseconds stable_after{60000};
    int crash_loop_limit = 5;
    std::chrono::milliseconds crash_loop_window{60000};
  };

  RestartPolicy() : RestartPolicy(Options{}) {}
  explicit RestartPolicy(const Options& options) : options_(options) {}

  // The process was started at `now`.
  void started(Clock::time_point now) { last_start_ = now; }

  // The process died unexpectedly at `now`. Returns false (and gave_up() becomes true) when
  // this death completes a crash loop; otherwise next_start() says when to restart it.
  bool died(Clock::time_point now);

  bool gave_up() const { return gave_up_; }
  // Why we gave up, one line ("5 exits within 60 s"); empty while not given up.
  const std::string& reason() const { return reason_; }
  Clock::time_point next_start() const { return next_start_; }
  std::chrono::milliseconds current_backoff() const { return backoff_; }

  // Forget history (a human asked for a restart).
  void reset();

 private:
  Options options_;
  std::deque<Clock::time_point> deaths_;  // within the crash-loop window only
  Clock::time_point last_start_{};
  Clock::time_point next_start_{};
  std::chrono::milliseconds backoff_{0};
  bool gave_up_ = false;
  std::string reason_;
};

}  // namespace rz::launch
