// Learner checkpoints: the learner's whole training state in one container file
// (common/checkpoint_file.h), so that a killed learner resumes where the checkpoint left it.
//
// Written every learner.checkpoint_every steps or learner.checkpoint_seconds, atomically,
// keeping the newest learner.keep_checkpoints. Which checkpoint a learner starts from, and
// what happens to damaged ones, is learner/starting_point.h. A checkpoint of another game or
// network shape is refused with a one-line error before anything is changed. A damaged file
// is never overwritten by a new checkpoint of the same step: it is set aside first.
//
// THIS HEADER INCLUDES LIBTORCH (through trainer.h): learner only.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "common/game.h"
#include "common/run_config.h"
#include "learner/trainer.h"

namespace rz {

struct LearnerProgress {
  uint64_t step = 0;            // training steps done
  uint64_t weight_version = 0;  // last WeightSlot version this learner published
  // Training time of the run up to this state (common/run_clock.h); section "train_seconds"
  // in milliseconds, absent (= 0) in checkpoints older than run.minutes.
  double train_seconds = 0;
};

// Writes RUN/checkpoints/ckpt-<step>.rzck (a file of that name that does not validate is set
// aside first) and prunes old ones. Throws CheckpointError (one line, with the errno text)
// if it cannot be written; the previous checkpoints are then untouched and no tmp file is
// left behind.
std::string save_learner_checkpoint(const std::string& run_dir, const RunConfig& config,
                                    const Game& game, Trainer& trainer,
                                    const LearnerProgress& progress, const std::mt19937_64& rng);

// Loads `path` into trainer and rng. Throws CheckpointError (one line) if it is corrupt or
// belongs to another game or network shape; trainer is then unchanged.
LearnerProgress load_learner_checkpoint(const std::string& path, const RunConfig& config,
                                        const Game& game, Trainer& trainer, std::mt19937_64* rng);

}  // namespace rz
