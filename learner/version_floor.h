// WeightVersionFloor: weight versions never go back, across any restart.
//
// Readers trust versions to grow: the evaluator skips every version up to the last one in
// eval.csv, actors stamp each position with the version that played it. The WeightSlot
// continues from its own `published` word while the segment lives, and a resumed learner
// publishes above its checkpoint's version; but a learner SIGKILLed after publishing
// versions its last checkpoint does not know, in a run whose segment is then made anew
// (supervisor killed too, `stop`, a reboot), would publish those versions a second time with
// other weights.
//
// So the learner reserves versions on disk before publishing them: RUN/checkpoints/
// weight_version holds R, and no version above R is ever published before R is durably
// raised (to the version + kReserveAhead, so the file is written once per kReserveAhead
// publishes, not per publish). A learner that finds an empty weight slot (a new segment)
// starts above R: versions may jump forward after a crash, never back.
#pragma once

#include <cstdint>
#include <string>

namespace rz {

class WeightVersionFloor {
 public:
  static constexpr uint64_t kReserveAhead = 64;

  // Reads RUN/checkpoints/weight_version (0 when missing). Throws std::runtime_error naming
  // the file and the fix when it holds anything but a number.
  explicit WeightVersionFloor(const std::string& run_dir);

  // The version of the next publish: the slot's next when the slot has versions
  // (latest > 0), else above everything ever reserved and above the checkpoint's `known`.
  uint64_t next_version(uint64_t slot_latest, uint64_t known) const;
  // Makes sure `version` is covered by the reservation on disk before it is published.
  // Throws DurableWriteError (common/durable_file.h) if the file cannot be written: the
  // caller must then not publish `version`.
  void cover(uint64_t version);
  uint64_t reserved() const { return reserved_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  uint64_t reserved_ = 0;
};

}  // namespace rz
