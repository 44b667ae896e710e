// `ringzero-launch start`, step by step: start_command() (commands.h) is the calls below, in
// the order they are declared. The checks come first; from create_run on, this process owns
// the run. Crash safety depends on that order: RUN/lock, then RUN/config.ini, then
// (supervisor.h) the run token, the segment and the children.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/file_lock.h"
#include "common/run_config.h"
#include "launch/run_dir.h"
#include "launch/supervisor.h"

namespace rz::launch {

// What start's command line asks for, beyond the options the parser reads.
struct StartRequest {
  std::string run_dir;             // --run-dir ("" until choose_run_dir picks a new one)
  bool resume = false;             // --resume
  bool detach = false;             // --detach (read by parse_start_options)
  bool has_config = false;         // --config FILE given
  bool stats_slots_given = false;  // --shm.stats_slots given
  // The command line the option parser reads, rewritten (--actors N is launch.actors=N, ...).
  std::vector<std::string> args;
};

// Peeks at --run-dir, --resume, --config; rewrites --serve, --secret-file and --actors into
// the options they stand for. Throws UsageError (exit 2) for a bad one, like every step.
StartRequest read_start_request(int argc, char** argv);
// The --run-dir given, or a new runs/<UTC time> (added to the command line).
RunDir choose_run_dir(StartRequest* request);
// Private; under --resume it holds a run, whose config.ini the options are read on top of.
void check_run_dir(const RunDir& dir, StartRequest* request);
// The options (bad ones: one line and exit 2, from parse_config_or_exit; --help: exit 0).
RunConfig parse_start_options(StartRequest* request);
// Refuses a run whose supervisor is alive (a dying one gets a grace to let go of RUN/lock).
void refuse_running_run(const RunDir& dir);
// A new run needs a fresh directory; --resume keeps the game and the network, fits the
// newest checkpoint, has minutes of training left and a readable generation.
void check_continuation(const RunDir& dir, const StartRequest& request, const RunConfig& config);
// The values config.ini records: actors, stats slots, run directory, segment name, seed.
void complete_config(const RunDir& dir, const StartRequest& request, RunConfig* config);
// An actor host's run is continued by join; --serve gets its secret (scale_setup.h).
void check_scale_out(const RunDir& dir, RunConfig* config);
// The child programs, found before anything is written.
SupervisorOptions supervisor_options(const RunConfig& config, const RunDir& dir);
// The layout, RUN/lock (take_run_lock, held from here on), RUN/config.ini; refuses a run
// that appeared in the directory meanwhile.
std::unique_ptr<FileLock> create_run(const RunDir& dir, const StartRequest& request,
                                     const RunConfig& config);
// runs/latest -> this run, when launch.sh asks for it (RZ_LATEST_LINK).
void point_latest_link(const RunDir& dir);
// Then start_detached (below), or the supervisor in this process, in the foreground; returns
// its exit status (supervisor.h).
int supervise_here(const SupervisorOptions& options, const RunDir& dir,
                   std::unique_ptr<FileLock> lock, bool resume);

// Also used by join. One supervisor per run directory: take_run_lock takes RUN/lock
// (common/file_lock.h), whose holder owns the run from then on, or throws UsageError
// "already running" naming the holder; a loser is refused before it writes anything.
std::unique_ptr<FileLock> take_run_lock(const RunDir& dir);
// Forks a session leader running the supervisor, which inherits `lock` and holds it for its
// life, and returns once every role is up (0; the run directory on stdout) or with the
// one-line cause.
int start_detached(const SupervisorOptions& options, const RunDir& dir,
                   std::unique_ptr<FileLock> lock);

}  // namespace rz::launch
