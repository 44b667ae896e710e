// Whose is the shared-memory segment a run directory names? Segment names are derived from
// the run path (or chosen by the user), so two runs can meet under one name: two containers
// sharing /dev/shm with the same run path, a copied run directory, a hand-edited shm.name.
// A segment is this run's only if its header records this run directory AND this run's
// token (RUN/shm_token, written before the segment is created). Nothing else is ever
// removed or reclaimed on this run's behalf: another run's segment holds that run's replay
// window, and an object that is not a ringzero segment of this build is somebody else's.
#pragma once

#include <cstdint>
#include <string>

#include "launch/run_dir.h"

namespace rz::launch {

enum class SegmentOwner {
  kNone,      // no object under that name
  kThisRun,   // our run directory and our token
  kOtherRun,  // a ringzero segment of another run (or of this path in another container)
  kUnknown,   // not openable as a segment of this build (foreign, other layout, being created)
};

struct SegmentCheck {
  SegmentOwner owner = SegmentOwner::kNone;
  bool creator_alive = false;
  std::string run_dir;  // what the segment records (kThisRun / kOtherRun)
  std::string why;      // for kUnknown: the open error
};

// The token in RUN/shm_token, 0 if none.
uint64_t read_run_token(const RunDir& dir);
void write_run_token(const RunDir& dir, uint64_t token);

// Looks at the segment `name` without changing it (beyond probing its creator mutex). A
// segment of this run directory whose creator is dead also counts as ours when RUN holds no
// token at all (RUN was deleted and made again).
SegmentCheck check_segment(const RunDir& dir, const std::string& name);

// Throws std::runtime_error (one line: whose it is and what to do) if `name` holds another
// run's segment: a start must never reclaim it, even with its creator dead.
void refuse_other_runs_segment(const RunDir& dir, const std::string& name);

}  // namespace rz::launch
