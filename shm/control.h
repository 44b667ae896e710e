// ControlBlock: the run-wide switches every process of a run polls.
//
// It lives inside the segment (see segment.h) at a fixed offset. Every field is a 4- or
// 8-byte lock-free atomic, so a process killed at any instant leaves each field either old or
// new, never torn.
//
//   stop                       1 = every process of the run exits cleanly. Set by the
//                              supervisor (launch.sh stop, Ctrl-C) or any process that hits a
//                              fatal error. Never reset within a run.
//   learner_restart_requested  a counter a CLI increments (ringzero-launch restart-learner);
//                              the supervisor restarts the learner whenever it differs from
//                              the count it has acknowledged (kept in the supervisor).
//   learner_restarts_done      the supervisor's acknowledged count, published for the monitor.
//   generation                 run generation, incremented at each start/resume of the run.
//   supervisor_pid, learner_pid  for messages and the monitor only; liveness is never
//                              decided from a pid (pids are reused, zombies look alive).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace rz::shm {

struct ControlBlock {
  std::atomic<uint32_t> stop;
  std::atomic<uint32_t> learner_restart_requested;
  std::atomic<uint64_t> generation;
  std::atomic<uint32_t> supervisor_pid;
  std::atomic<uint32_t> learner_pid;
  std::atomic<uint32_t> learner_restarts_done;
  std::atomic<uint32_t> reserved_;

  // Sets stop and wakes every process blocked in wait_for_stop().
  void request_stop();
  [[nodiscard]] bool stop_requested() const { return stop.load(std::memory_order_acquire) != 0; }
  // Blocks (futex, no spinning) until stop is set or the timeout passes. Returns
  // stop_requested(). Usable as an interruptible sleep by supervisors and monitors.
  bool wait_for_stop(std::chrono::milliseconds timeout);
};

static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);

}  // namespace rz::shm
