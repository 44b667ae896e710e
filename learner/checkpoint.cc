#include "learner/checkpoint.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/checkpoint_file.h"
#include "common/config_options.h"
#include "learner/starting_point.h"

namespace rz {
namespace {

std::vector<uint8_t> text_bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

}  // namespace

std::string save_learner_checkpoint(const std::string& run_dir, const RunConfig& config,
                                    const Game& game, Trainer& trainer,
                                    const LearnerProgress& progress, const std::mt19937_64& rng) {
  std::string dir = checkpoint_dir(run_dir);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw CheckpointError("cannot create " + dir + ": " + std::strerror(errno));
  std::ostringstream rng_text;
  rng_text << rng;
  CheckpointSections sections = {
      {"game_spec", text_bytes(game.spec())},
      {"net_shape", text_bytes(config.net.shape_string())},
      {"config", text_bytes(to_ini(config))},
      {"weights", trainer.weights_blob()},
      {"optimizer", trainer.optimizer_state()},
      {"step", u64_bytes(progress.step)},
      {"weight_version", u64_bytes(progress.weight_version)},
      {"rng", text_bytes(rng_text.str())},
      {"train_seconds", u64_bytes(static_cast<uint64_t>(progress.train_seconds * 1000.0))},
  };
  std::string path = checkpoint_path(run_dir, progress.step);
  // Same name as an existing file: this learner's own checkpoint of this step (replaced), or
  // a damaged file from before a resume (kept, as evidence, under another name).
  if (::access(path.c_str(), F_OK) == 0) {
    try {
      read_checkpoint_sections(path);
    } catch (const CheckpointError&) {
      set_aside_corrupt_checkpoint(path);
    }
  }
  write_checkpoint_sections(path, sections);
  prune_checkpoints(run_dir, config.learner.keep_checkpoints);
  return path;
}

LearnerProgress load_learner_checkpoint(const std::string& path, const RunConfig& config,
                                        const Game& game, Trainer& trainer, std::mt19937_64* rng) {
  auto sections = read_checkpoint_sections(path);
  CheckpointInfo info = read_checkpoint(path);  // standard sections present and parsed
  if (info.game_spec != game.spec())
    throw CheckpointError("checkpoint " + path + " is for game '" + info.game_spec +
                          "' but the config says '" + game.spec() +
                          "'; use that run's config or a new run directory");
  if (info.net_shape != config.net.shape_string())
    throw CheckpointError("checkpoint " + path + " holds a " + info.net_shape +
                          " network but the config says net " + config.net.shape_string() +
                          "; set net.blocks/net.filters to match or use a new run directory");
  auto opt = sections.find("optimizer");
  auto rng_it = sections.find("rng");
  if (opt == sections.end() || rng_it == sections.end())
    throw CheckpointError("checkpoint " + path + " lacks the optimiser or RNG state");
  std::mt19937_64 restored;
  std::istringstream rng_text(std::string(rng_it->second.begin(), rng_it->second.end()));
  rng_text >> restored;
  if (!rng_text) throw CheckpointError("checkpoint " + path + " has an unreadable RNG state");
  try {
    trainer.load(info.weights, opt->second);
  } catch (const std::exception& e) {
    throw CheckpointError("checkpoint " + path + ": " + e.what());
  }
  LearnerProgress progress{info.step, info.weight_version};
  auto train = sections.find("train_seconds");
  if (train != sections.end())
    progress.train_seconds = bytes_u64(train->second, "train_seconds") / 1000.0;
  *rng = restored;
  return progress;
}

}  // namespace rz
