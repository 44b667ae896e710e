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
// It stops like every role (common/role_process.h): on SIGTERM/SIGINT, the run's stop flag, or
// its creator's death, with its final checkpoint written before anything is printed.
//
// Exit status: 0 after a clean stop with its final checkpoint written; 2 for a bad command line
// or configuration (rz::UserError); 1 for a setup problem (one line on stderr, nothing changed:
// a missing segment, checkpoints of another network) or when the final checkpoint could not
// be written.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>

#include <fmt/format.h>

#include "common/checkpoint_file.h"
#include "common/config.h"
#include "common/error.h"
#include "common/file_lock.h"
#include "common/role_process.h"
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
  return rz::FileLock::acquire_for_role(
      dir + "/lock", std::chrono::seconds(config.launch.learner_stop_timeout_s + 10), "learner",
      dir, config.run_dir, [](const std::string& line) { std::printf("%s\n", line.c_str()); });
}

}  // namespace

int main(int argc, char** argv) {
  std::atomic<uint32_t>& stop = rz::start_role_process();
  rz::RoleOptions role(
      "learner", "ringzero-learner --shm NAME --run-dir RUN --config RUN/config.ini [--resume]");
  role.flags.add_options()("resume",
                           "continue from the newest valid checkpoint in RUN/checkpoints");
  boost::program_options::variables_map flags;
  rz::RunConfig config = rz::parse_config_or_exit(argc, argv, role, &flags);
  return rz::run_main("ringzero-learner", [&] {
    rz::require_run_dir(&config);
    const std::unique_ptr<rz::FileLock> checkpoints_lock = lock_checkpoints(config);
    std::unique_ptr<rz::shm::Segment> segment = rz::shm::Segment::open(config.shm.name);
    rz::RunWatcher watcher(*segment, &stop, [](const std::string& line) {
      std::printf("%s\n", line.c_str());  // stamped "learner:" by the supervisor
    });
    rz::Learner learner(*segment, config, config.run_dir, flags.count("resume") > 0, &stop);
    return learner.run();
  });
}
