// The checkpoint container: one file per checkpoint, RUN/checkpoints/ckpt-<step>.rzck.
//
// Torch-free on purpose: evaluation tools, the launcher and tests read checkpoints (game,
// step, weight blob) without LibTorch; only the learner interprets the optimiser section.
//
// File layout (all integers little-endian):
//   "RZCKPT\0\1"          8 bytes magic
//   u32 format version    (kCheckpointFormatVersion)
//   u32 section count
//   per section:  u32 name length, name bytes, u64 data length, data bytes
//   u64 checksum           64-bit FNV-1a over every byte before it
// A file that is short, has trailing bytes, a wrong magic/version or a checksum mismatch is
// corrupt: read_checkpoint_sections throws CheckpointError and nothing is half-trusted.
//
// Writing is atomic and durable: the bytes go to "<path>.tmp.<pid>", which is fsync'ed,
// renamed over <path>, and the directory is fsync'ed. A SIGKILL (or power loss) at any
// instant therefore leaves either the old set of checkpoints or the new one, never a torn
// file under a checkpoint name; stray ".tmp." files are ignored by readers and removed by
// the next prune.
//
// Standard sections (written by the learner, learner/checkpoint.cc):
//   "game_spec"      Game::spec() text
//   "net_shape"      NetConfig::shape_string(), e.g. "4x64"
//   "config"         effective run configuration (INI text)
//   "weights"        the network blob, byte-identical to what the WeightSlot carries
//   "optimizer"      learner-private optimiser state (momentum buffers)
//   "step"           u64 training steps done
//   "weight_version" u64 last published WeightSlot version
//   "rng"            learner RNG state (text)
//   "train_seconds"  u64 milliseconds of training time of the run (optional; run.minutes)
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/hash.h"  // fnv1a64, the file checksum

namespace rz {
// No checkpoint is larger (weights of a large network, optimiser state, config): a bigger
// file named ckpt-*.rzck is refused before it is read.
constexpr uint64_t kMaxCheckpointBytes = 16ull << 30;
}  // namespace rz

namespace rz {

constexpr uint32_t kCheckpointFormatVersion = 1;

struct CheckpointError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Named byte sections, in write order.
using CheckpointSections = std::vector<std::pair<std::string, std::vector<uint8_t>>>;

// Writes `sections` to `path` atomically (tmp file, fsync, rename, fsync dir). Throws
// CheckpointError (with errno text) on any I/O failure; the previous file at `path`, if
// any, is then untouched.
void write_checkpoint_sections(const std::string& path, const CheckpointSections& sections);

// Reads and fully validates a container. Throws CheckpointError naming the file and the
// problem (missing, truncated, bad magic, unsupported version, checksum mismatch, ...).
std::map<std::string, std::vector<uint8_t>> read_checkpoint_sections(const std::string& path);

// The torch-free view of a checkpoint.
struct CheckpointInfo {
  std::string path;
  std::string game_spec;
  std::string net_shape;  // "blocks x filters", e.g. "4x64"
  uint64_t step = 0;
  uint64_t weight_version = 0;
  std::vector<uint8_t> weights;  // the same blob the WeightSlot carries
  std::string config_text;
};

// Reads `path` and its standard sections; throws CheckpointError if corrupt or a standard
// section is missing.
CheckpointInfo read_checkpoint(const std::string& path);

// "RUN/checkpoints".
std::string checkpoint_dir(const std::string& run_dir);
// "RUN/checkpoints/ckpt-<step, zero-padded>.rzck".
std::string checkpoint_path(const std::string& run_dir, uint64_t step);
// Checkpoint files of a run, oldest first (by step in the name); tmp files excluded.
std::vector<std::string> list_checkpoints(const std::string& run_dir);
// The newest checkpoint that validates, or "" if there is none. Prints a one-line warning to
// stderr for every newer one it skips as corrupt.
std::string latest_valid_checkpoint(const std::string& run_dir);
// Deletes all but the newest `keep` checkpoints and any stray tmp files.
void prune_checkpoints(const std::string& run_dir, int keep);

// Little-endian u64 <-> 8 bytes, for the numeric sections.
std::vector<uint8_t> u64_bytes(uint64_t v);
uint64_t bytes_u64(const std::vector<uint8_t>& b, const std::string& what);

}  // namespace rz
