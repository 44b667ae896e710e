// Role start-up in one place: what every process of a run (ringzero-actor, ringzero-learner,
// `ringzero-eval live`, ringzero-relay, ringzero-ingest) does before its own work, and its one
// answer to "the supervisor died".
//
// start_role_process(), the first line of each role's main:
//   - ignores SIGPIPE. A role's output goes into its supervisor's pipe; once the supervisor is
//     gone that pipe has no reader, and a write must cost a lost line (EPIPE), not the process:
//     the learner still has its final checkpoint to write, the relay its lanes to drain;
//   - line-buffers stdout and stderr, so every line is in the run's log when printed;
//   - makes SIGTERM and SIGINT store 1 into the process's stop word (role_stop_word()) and do
//     nothing else (an atomic store is async-signal-safe). The handlers are installed without
//     SA_RESTART: a blocking wait (a futex sleep on a full lane, the ring's doorbell) returns
//     with EINTR and its caller re-checks the word.
// Each role treats its stop word like the run's stop flag: it finishes the step at hand, leaves
// cleanly (the learner writes its final checkpoint) and exits 0.
//
// The supervisor's death (the one answer, the same for every role): the role stops as if the
// run's stop flag were set. What notices it is a RunWatcher, which every role runs from the
// moment it has attached to the run's segment until it leaves. The watcher probes the segment's
// creator (the supervisor that created the segment) once a second through the creator's robust
// mutex (shm/segment.h). The kernel releases that mutex when its owner dies, however it dies,
// SIGKILL included, so the probe is never fooled by a reused pid, and it works however the role
// was started: by the supervisor, by a test, or by a person attaching a process to a live run.
// The supervisor also sets PR_SET_PDEATHSIG(SIGTERM) in the children it spawns
// (launch/child_process.h): that SIGTERM usually arrives first, and here it is just a stop
// signal, leading to the same clean stop. A role never decides on its own that the run is over
// for any other reason than these: stop flag, stop signal, creator gone.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "common/config.h"
#include "shm/control.h"
#include "shm/segment.h"
#include "shm/stats.h"

namespace rz {

// Ignores SIGPIPE, line-buffers stdout and stderr, installs the SIGTERM/SIGINT handlers.
// Returns the process's stop word. Call it once, first thing in main.
std::atomic<uint32_t>& start_role_process();

// The process's stop word: nonzero once a stop signal arrived or a RunWatcher saw the run's
// stop flag or its creator's death.
std::atomic<uint32_t>& role_stop_word();

// For a role that works in a run directory: throws std::runtime_error("--run-dir is required")
// without one, and names the run's segment after it (default_shm_name) unless --shm did.
void require_run_dir(RunConfig* config);

// Folds the run's stop flag and the death of the run's creator into the stop word, in one
// thread: it sleeps on the control block's stop futex 100 ms at a time and probes the creator
// once a second. It blocks SIGTERM and SIGINT, so that those go to the role's own threads,
// whose blocking waits they interrupt.
class RunWatcher {
 public:
  // `log` receives one line ("the run's creator (pid N) is gone: stopping") when the creator
  // is found dead; it runs on the watcher's thread.
  RunWatcher(shm::Segment& segment, std::atomic<uint32_t>* stop,
             std::function<void(const std::string&)> log);
  ~RunWatcher();  // joins the thread: within one 100 ms sleep
  RunWatcher(const RunWatcher&) = delete;
  RunWatcher& operator=(const RunWatcher&) = delete;

  bool creator_gone() const { return creator_gone_.load(std::memory_order_relaxed); }

  // The stop word, or the run's stop flag read directly (the thread folds the flag into the
  // word within 100 ms; this sees it at once): what a role's loop asks before each step.
  bool stopping() const {
    return stop_->load(std::memory_order_acquire) != 0 || segment_.control().stop_requested();
  }

  // While the role's thread is blocked for long (an actor on a full lane: back-pressure from the
  // learner, which can last minutes), the watcher keeps `writer`'s heartbeat fresh, so that
  // monitors do not take a waiting process for a hung one. nullptr when the wait is over. The
  // writer must outlive the watcher.
  void heartbeat_for(shm::StatsWriter* writer) {
    blocked_writer_.store(writer, std::memory_order_release);
  }

 private:
  void watch();

  shm::Segment& segment_;
  std::atomic<uint32_t>* const stop_;
  std::function<void(const std::string&)> log_;
  std::atomic<bool> done_{false};
  std::atomic<bool> creator_gone_{false};
  std::atomic<shm::StatsWriter*> blocked_writer_{nullptr};
  std::thread thread_;
};

}  // namespace rz
