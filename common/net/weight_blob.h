// The weight blob: every parameter and buffer of a network in one flat, self-describing byte
// string. It is what the learner publishes through the WeightSlot, what an actor loads
// between rounds, and what a checkpoint stores.
//
// Torch-free: tools (monitor, checkpoint inspection, the actor's config check) parse the
// header without LibTorch. The network side (common/net/network.h) turns a blob into tensors.
//
// Layout (all integers little-endian; this code only runs on little-endian machines):
//
//   offset  size  field
//   0       8     magic "RZWEIGHT"
//   8       4     format version (kWeightBlobFormatVersion)
//   12      4     header bytes = offset of the payload (multiple of 8)
//   16      8     layout tag (see below)
//   24      8     payload bytes
//   32      8     payload checksum (64-bit, see blob_checksum)
//   40      4     blocks       } NetConfig
//   44      4     filters      }
//   48      4     architecture name length A
//   52      4     game spec length G
//   56      4     tensor count T
//   60      A+G   architecture name, game spec
//   then T times: u32 name length, name, u32 dtype, u32 ndim, ndim x i64 dims
//   zero padding to a multiple of 8, then the payload: each tensor's raw data in order,
//   each starting at a multiple of 8 from the payload start.
//
// The layout tag is a 64-bit hash of the architecture name, the game spec, the NetConfig and
// every tensor's name, dtype and shape. Two blobs with equal tags fit the same network; the
// parser recomputes it from the header, so a damaged header is refused like a damaged
// payload (which the checksum catches).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/net/net_config.h"

namespace rz {

constexpr uint32_t kWeightBlobFormatVersion = 1;

// Thrown for any blob that cannot be used: truncated, corrupted, wrong version, or made for
// another network. The message is one line naming the problem and the fix.
struct WeightBlobError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class BlobDType : uint32_t { kFloat32 = 1, kInt64 = 2 };

struct BlobTensor {
  std::string name;
  BlobDType dtype = BlobDType::kFloat32;
  std::vector<int64_t> shape;
  uint64_t offset = 0;  // from the start of the blob
  uint64_t bytes = 0;
};

struct WeightBlobHeader {
  uint32_t format_version = 0;
  std::string architecture;  // e.g. "rz-resnet-v1"
  std::string game_spec;
  NetConfig config;
  uint64_t layout_tag = 0;
  std::vector<BlobTensor> tensors;
  uint64_t payload_offset = 0, payload_bytes = 0;

  // "connect4 4x64", the words error messages use for a network.
  std::string description() const;
};

// Parses and fully validates a blob (bounds, layout tag, payload checksum). Throws
// WeightBlobError with a one-line message on any problem; never reads outside [data, size).
WeightBlobHeader parse_weight_blob_header(const uint8_t* data, size_t size);

// What a writer supplies for one tensor: its description and a pointer to `bytes` of
// contiguous data.
struct BlobTensorData {
  std::string name;
  BlobDType dtype = BlobDType::kFloat32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
};

// The layout tag of a network described by these parts (see the file comment).
uint64_t weight_layout_tag(const std::string& architecture, const std::string& game_spec,
                           const NetConfig& config, const std::vector<BlobTensor>& tensors);

// Builds a blob; tensor offsets and the tag are computed here.
std::vector<uint8_t> write_weight_blob(const std::string& architecture,
                                       const std::string& game_spec, const NetConfig& config,
                                       const std::vector<BlobTensorData>& tensors);

// Bytes per element of a dtype (0 for an unknown one).
size_t blob_dtype_size(BlobDType dtype);
// The payload checksum: a 64-bit FNV-1a variant over 8-byte words (fast enough to verify
// every blob an actor loads).
uint64_t blob_checksum(const uint8_t* data, size_t size);

}  // namespace rz
