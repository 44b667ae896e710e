#include "learner/starting_point.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/checkpoint_file.h"

namespace rz {

StartingPoint choose_starting_point(const std::string& run_dir, bool resume) {
  const std::vector<std::string> paths = list_checkpoints(run_dir);
  StartingPoint start;
  if (paths.empty()) return start;
  if (!resume)
    throw CheckpointError(checkpoint_dir(run_dir) +
                          " already holds checkpoints; pass --resume to continue that run "
                          "or use a new run directory");
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
    try {
      read_checkpoint(*it);
      start.path = *it;
      return start;
    } catch (const CheckpointError& e) {
      start.skipped.emplace_back(*it, e.what());
    }
  }
  throw CheckpointError("no valid checkpoint among " + std::to_string(paths.size()) +
                        " file(s) in " + checkpoint_dir(run_dir) +
                        " (newest: " + start.skipped.front().second +
                        "): restore a good checkpoint or start a new run without --resume");
}

std::string set_aside_corrupt_checkpoint(const std::string& path) {
  std::string target = path + ".corrupt";
  for (int n = 2; ::access(target.c_str(), F_OK) == 0; ++n)
    target = path + ".corrupt." + std::to_string(n);
  if (::rename(path.c_str(), target.c_str()) != 0)
    throw CheckpointError("cannot set aside corrupt checkpoint " + path + " as " + target + ": " +
                          std::strerror(errno));
  return target;
}

}  // namespace rz
