// ShmError: the one exception type of rz::shm.
//
// Every message is one line that names the problem and the fix, e.g.
//   "shared-memory segment /rz-run1 has layout version 3, this build expects 4: stop the old
//    run or remove it with launch.sh stop"
// so that a binary can print e.what() and exit non-zero without further context.
#pragma once

#include <stdexcept>
#include <string>

namespace rz::shm {

struct ShmError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace rz::shm
