// One base for the errors a user can fix, so every `main` tells a user error from a bug.
//
// A UserError is something the person running the command got wrong and can put right: a
// bad option or option value, a configuration that cannot work, a file or run directory that
// is missing, foreign or unsafe. Its message is one line that names the problem and the fix.
// `main` prints it and exits with kExitUserError (2). Anything else that escapes (a broken
// invariant, a failed system call, an exhausted resource) is a fault of ours or of the
// machine: `main` prints it and exits with kExitFailure (1).
//
// Error types stay where their module is (ConfigError in common/run_config.h, UsageError in
// launch/command_support.h, ...); the ones that describe user mistakes derive from
// UserError. shm/ keeps its own ShmError: it knows nothing of common/.
#pragma once

#include <stdexcept>
#include <string>

namespace rz {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUserError = 2;

struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace rz
