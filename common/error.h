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
//
// run_main() is that rule written once, for the mains outside launch/:
//
//   int main(int argc, char** argv) {
//     return rz::run_main("ringzero-x", [&] { ...; return 0; });
//   }
#pragma once

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

namespace rz {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUserError = 2;

struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs `body` (which returns the exit status) and turns what escapes it into one line on
// stderr, "<program>: <message>", and the exit status: kExitUserError for a UserError (with
// " (<user_hint>)" appended when a hint is given, e.g. the usage line), kExitFailure for any
// other std::exception. Standard output is flushed first, so the error line comes last.
template <typename Body>
int run_main(const char* program, Body&& body, const char* user_hint = nullptr) {
  try {
    return body();
  } catch (const UserError& e) {
    std::fflush(stdout);
    if (user_hint)
      std::fprintf(stderr, "%s: %s (%s)\n", program, e.what(), user_hint);
    else
      std::fprintf(stderr, "%s: %s\n", program, e.what());
    return kExitUserError;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return kExitFailure;
  }
}

}  // namespace rz
