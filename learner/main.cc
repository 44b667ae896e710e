// ringzero-learner: the one process that trains.
//
//   ringzero-learner --shm NAME --run-dir RUN --config RUN/config.ini [--resume]
//
// It attaches to the run's shared-memory segment, takes the ring's consumer role, publishes
// its starting weights, then drains self-play games into its replay window, trains, and
// publishes new weights until the run stops. With --resume it continues from the newest
// valid checkpoint in RUN/checkpoints. It owns the training device; no other process of a
// run touches CUDA.
//
// Exit status: 0 after a clean stop with its final checkpoint written; 1 for a setup problem
// (one line on stderr, nothing changed) or when the final checkpoint could not be written.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>

#include <fmt/format.h>

#include "common/checkpoint_file.h"
#include "common/config.h"
#include "common/file_lock.h"
#include "learner/learner.h"
#include "shm/segment.h"

namespace {

// One learner writes a run's checkpoints at a time: a learner left by a SIGKILLed supervisor
// may still be writing its final checkpoint (and pruning) when `start --resume` starts the
// next one. The newcomer waits for it, bounded, before it reads any checkpoint.
std::unique_ptr<rz::FileLock> lock_checkpoints(const rz::RunConfig& config) {
  const std::string dir = rz::checkpoint_dir(config.run_dir);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw std::runtime_error(fmt::format("cannot create {}: {}", dir, std::strerror(errno)));
  const std::string path = dir + "/lock";
  const auto timeout = std::chrono::seconds(config.launch.learner_stop_timeout_s + 10);
  auto lock = rz::FileLock::acquire(path, timeout, [&](pid_t holder) {
    std::printf("waiting up to %lld s for the previous learner (pid %d) to finish with %s\n",
                static_cast<long long>(timeout.count()), holder, dir.c_str());
  });
  if (!lock) {
    pid_t holder = 0;
    rz::FileLock::held(path, &holder);
    throw std::runtime_error(fmt::format(
        "another learner (pid {}) still holds {} after {} s: stop it (kill {}) or stop the run "
        "with launch.sh stop --run-dir {}, then start again",
        holder, path, timeout.count(), holder, config.run_dir));
  }
  lock->record_pid(::getpid());
  return lock;
}

}  // namespace

int main(int argc, char** argv) {
  // Our output goes to the supervisor's pipe. If the supervisor dies (SIGKILL), we get SIGTERM
  // and shut down, and the pipe has no reader: a write must then fail with EPIPE (ignored by
  // our logging), not kill us with SIGPIPE before the final checkpoint is written.
  std::signal(SIGPIPE, SIG_IGN);
  // Line-buffered even into the supervisor's pipe or a log file: each line is out when printed.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::setvbuf(stderr, nullptr, _IOLBF, 0);
  rz::RoleOptions role(
      "learner", "ringzero-learner --shm NAME --run-dir RUN --config RUN/config.ini [--resume]");
  role.flags.add_options()("resume",
                           "continue from the newest valid checkpoint in RUN/checkpoints");
  boost::program_options::variables_map flags;
  rz::RunConfig config = rz::parse_config_or_exit(argc, argv, role, &flags);
  try {
    if (config.run_dir.empty()) throw std::runtime_error("--run-dir is required");
    if (config.shm.name.empty()) config.shm.name = rz::default_shm_name(config.run_dir);
    rz::install_stop_signal_handlers();
    const std::unique_ptr<rz::FileLock> checkpoints_lock = lock_checkpoints(config);
    std::unique_ptr<rz::shm::Segment> segment = rz::shm::Segment::open(config.shm.name);
    rz::Learner learner(*segment, config, config.run_dir, flags.count("resume") > 0);
    return learner.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringzero-learner: %s\n", e.what());
    return 1;
  }
}
