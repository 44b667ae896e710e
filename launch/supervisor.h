// Supervisor: the body of `ringzero-launch start`, the one process that owns a run.
//
// Its story, in order (run() calls one method per step; the names are theirs):
//   1. route_signals, open_log, next_generation: SIGCHLD/SIGINT/SIGTERM/SIGHUP/SIGUSR1 through
//      a signalfd, RUN/logs/launch.log, the generation (1 for a fresh run, +1 at every start);
//   2. read_saved_counters, create_segment: the counters of the run's earlier generations
//      (stats_snapshot.h; from the segment a SIGKILLed supervisor left, or RUN/stats.snapshot),
//      then the run's shared-memory segment (refused if a live supervisor or another run has
//      it; a segment left by a SIGKILLed one is reclaimed), its run token on disk first;
//   3. start_roles: the generation, segment name and pid files, the counters seeded, then
//      fork/exec the N actors, then the learner, then (eval.enabled) the evaluator
//      (`ringzero-eval live`, CPU only, nice 10); scale-out adds redis and the ingest, or the
//      relay. The supervisor itself never loads LibTorch or CUDA (it links only ringzero_shm
//      and the torch-free config), so nothing CUDA-related is ever inherited across a fork.
//      A failure here kills what was spawned and removes the segment;
//   4. watch: reap children, carry their output into RUN/logs/<role>.log. A child that dies
//      before every role has reported running ends the run (fail fast: its cause is one a
//      restart cannot fix; the error names the child and the last line it printed, and the
//      run is stopped as in 5, exit code 1). Once the run is up: restart a dead actor on its
//      lane, a dead learner with --resume and a dead evaluator (exponential backoff, give up
//      on a crash loop), restart the learner on request (control block counter or SIGUSR1)
//      while the actors keep playing; save the counters every 10 s;
//   5. on SIGINT/SIGTERM (or the stop flag) stop in order (begin_stop): stop flag, SIGTERM to
//      everyone (the learner writes its final checkpoint), SIGKILL whoever hangs past its
//      timeout, reap; then finish: save the counters to RUN/stats.snapshot, remove the segment
//      and the pid files, exit 0.
//
// Single-threaded by design (see child_process.h): one poll() loop over a signalfd and the
// children's output pipes, with a 200 ms tick for timers. No busy waiting.
#pragma once

#include <string>

#include "common/run_config.h"
#include "launch/run_dir.h"

namespace rz::launch {

struct SupervisorOptions {
  RunConfig config;     // effective; already written to RUN/config.ini
  std::string run_dir;  // absolute
  int actors = 1;
  std::string actor_binary;  // paths of the child programs
  std::string learner_binary;
  std::string eval_binary;         // used when config.eval.enabled
  bool echo_log_to_stderr = true;  // foreground runs show the supervisor log on the terminal
  int ready_fd = -1;  // if >= 0: "ready <run dir>\n" or "error: ...\n" is written here once
};

// Runs the supervisor to completion. Returns the process exit code: 0 after a clean stop, 1
// when a role failed during start-up (the run is stopped all the same; the one-line cause
// went to ready_fd, or to stderr in the foreground).
int run_supervisor(const SupervisorOptions& options);

}  // namespace rz::launch
