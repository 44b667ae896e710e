// Where a learner starts: the checkpoint it resumes from, or fresh weights, decided from
// RUN/checkpoints before the learner touches anything.
//
//   no --resume, no checkpoint        fresh weights (a new run)
//   no --resume, checkpoints exist    refused: they would be overwritten by the new run's
//   --resume, newest valid one        resume from it; newer damaged ones are set aside
//   --resume, no checkpoint file      fresh weights: the learner was killed before its first
//                                     checkpoint (early in a run). Its replay window lives in
//                                     the segment and is kept, so no committed game is lost.
//   --resume, files but none valid    refused: starting fresh would quietly throw the run's
//                                     training away, and later overwrite the damaged files
//
// "Set aside" = renamed to "<name>.corrupt": the bytes stay for a post-mortem, but out of
// list_checkpoints (so neither loaded, nor counted by pruning, nor replaced by a new
// checkpoint of the same step).
//
// Torch-free: reads checkpoints with the container reader (common/checkpoint_file.h).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace rz {

struct StartingPoint {
  std::string path;  // checkpoint to load; "" = fresh weights
  // Newer files than `path` that did not validate, each with its one-line reason: to be set
  // aside once `path` has been loaded (not before: a refusal must change nothing).
  std::vector<std::pair<std::string, std::string>> skipped;
};

// Reads RUN/checkpoints and decides, changing nothing. Throws CheckpointError with one line
// naming the files and the fix in the two refused cases of the table above.
StartingPoint choose_starting_point(const std::string& run_dir, bool resume);

// Renames a checkpoint file that failed to validate to "<path>.corrupt" (".corrupt.2", ...
// if taken): never deletes or overwrites bytes. Returns the new name. Throws
// CheckpointError if the rename fails.
std::string set_aside_corrupt_checkpoint(const std::string& path);

}  // namespace rz
