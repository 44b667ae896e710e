// What the ringzero-launch subcommands (and ringzero-monitor) share: the one-line usage error
// and the exit status it gets, how hints name the script the user ran, where the child
// programs are, whether a run's supervisor is alive.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>

#include "common/error.h"
#include "launch/run_dir.h"

namespace rz::launch {

// Thrown for bad input; run_command prints "ringzero-launch: <what>" and exits 2
// (kExitUserError, common/error.h: it is a UserError).
struct UsageError : UserError {
  using UserError::UserError;
};

// How hints refer to us: launch.sh sets RZ_LAUNCH_SCRIPT so users see the script they ran.
std::string script();

// The path of a child program: $env if set, else `relative` to this executable's folder
// (build/launch/../actor/ringzero-actor). Throws UsageError if it is not executable.
std::string child_binary(const char* env, const std::string& relative);

// True if the run's supervisor is alive: it holds RUN/lock (common/file_lock.h), whatever any
// pid file says (pids are reused; a copied run directory copies its pid files). *pid gets
// the pid the holder recorded (0 when not running).
bool supervisor_alive(const RunDir& dir, pid_t* pid);

// The number of actors --actors TEXT asks for (0 to kMaxActors, 0 = cores - 1); throws
// UsageError naming what is expected.
int parse_actor_count(const std::string& text);

// The directory of a run started without --run-dir: `pattern` (strftime) of the UTC time
// now, e.g. "runs/%Y%m%d-%H%M%S".
std::string new_run_dir_name(const char* pattern);

// The run's segment name; throws UsageError naming the fix if the directory holds no run.
std::string shm_name_of(const RunDir& dir);

// Polls `done` every 100 ms until it holds (true) or `timeout` passes (false).
bool wait_until(const std::function<bool()>& done, std::chrono::seconds timeout);

// Throws UsageError ("there is no run in DIR ...; start one with ...") unless DIR holds a
// run (its config.ini).
void require_run(const RunDir& dir);

// The "watch / status / restart / stop / logs" lines every start ends with (the run
// directory shell-quoted, so that each line can be pasted).
void print_next_steps(const RunDir& dir, std::FILE* out);

}  // namespace rz::launch
