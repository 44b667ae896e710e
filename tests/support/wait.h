// wait_until: the one way a test waits for something another process does. Processes come
// up and work in their own time on a loaded machine, so a test polls for the condition with
// a generous deadline instead of sleeping a fixed time (flaky when slow, wasteful when fast).
// The deadline only bounds a failing test; a passing one waits as long as the condition
// takes.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

namespace rz::testing {

// Checks `done` until it holds (true) or `timeout` has passed (false). It checks every
// 20 ms, or sleeps twice as long as one check took when that is longer: a check that runs a
// process (the monitor, ~50 ms) then takes at most a third of a core from the processes
// under test, as the 100 ms pause of the launch tests' former copy did.
inline bool wait_until(const std::function<bool()>& done, std::chrono::duration<double> timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
  while (true) {
    const auto checked = Clock::now();
    if (done()) return true;
    const auto now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(
        std::max<Clock::duration>(std::chrono::milliseconds(20), 2 * (now - checked)));
  }
}

}  // namespace rz::testing
