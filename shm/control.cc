#include "shm/control.h"

#include <climits>

#include "shm/sys.h"

namespace rz::shm {

void ControlBlock::request_stop() {
  stop.store(1, std::memory_order_seq_cst);
  sys::futex_wake(&stop, INT_MAX);
}

bool ControlBlock::wait_for_stop(std::chrono::milliseconds timeout) {
  if (!stop_requested()) sys::futex_wait(&stop, 0, timeout);
  return stop_requested();
}

}  // namespace rz::shm
