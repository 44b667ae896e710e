#include "common/net/weight_blob.h"

#include <cstring>
#include <limits>

namespace rz {
namespace {

constexpr char kMagic[8] = {'R', 'Z', 'W', 'E', 'I', 'G', 'H', 'T'};
constexpr size_t kFixedHeaderBytes = 60;
// Sanity bounds: a header field beyond these is damage, not a network.
constexpr uint32_t kMaxStringBytes = 4096;
constexpr uint32_t kMaxTensors = 100000;
constexpr uint32_t kMaxDims = 8;

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t align8(uint64_t n) {
  return (n + 7) & ~uint64_t{7};
}

// Reads little-endian fields with a bound check on every access, so a truncated or damaged
// blob produces an error message instead of a read past the end.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  template <typename T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string str(uint32_t n, const char* what) {
    need(n, what);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }
  size_t pos() const { return pos_; }

 private:
  void need(size_t n, const char* what) {
    if (n > size_ - pos_)
      throw WeightBlobError(std::string("weight blob is truncated (ends inside the ") + what +
                            "): the file or slot is damaged; use an intact checkpoint");
  }
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

class Writer {
 public:
  template <typename T>
  void put(T v) {
    const size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &v, sizeof(T));
  }
  void str(const std::string& s) { out.insert(out.end(), s.begin(), s.end()); }
  void pad8() { out.resize(align8(out.size()), 0); }
  std::vector<uint8_t> out;
};

void hash_bytes(uint64_t* h, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) *h = (*h ^ b[i]) * kFnvPrime;
}
void hash_string(uint64_t* h, const std::string& s) {
  const uint64_t n = s.size();
  hash_bytes(h, &n, sizeof n);  // length first: "ab"+"c" and "a"+"bc" hash differently
  hash_bytes(h, s.data(), s.size());
}

// Header strings (architecture, game spec, tensor names) are plain printable ASCII; anything
// else is damage, and refusing it keeps every later message that quotes them on one line.
bool is_printable(const std::string& text) {
  for (char c : text)
    if (c < 0x20 || c >= 0x7f) return false;
  return true;
}

// A name read from a possibly damaged header, safe to put in a one-line message.
std::string printable(const std::string& name) {
  std::string out;
  for (char c : name.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return name.size() > 64 ? out + "..." : out;
}

uint64_t element_count(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d > 0 && n > std::numeric_limits<uint64_t>::max() / 16 / uint64_t(d)))
      return std::numeric_limits<uint64_t>::max();
    n *= uint64_t(d);
  }
  return n;
}

}  // namespace

size_t blob_dtype_size(BlobDType dtype) {
  switch (dtype) {
    case BlobDType::kFloat32:
      return 4;
    case BlobDType::kInt64:
      return 8;
  }
  return 0;
}

uint64_t blob_checksum(const uint8_t* data, size_t size) {
  uint64_t h = kFnvOffset;
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    h = (h ^ w) * kFnvPrime;
    h ^= h >> 29;  // fold high bits down: plain word-FNV mixes upward only
  }
  for (; i < size; ++i) h = (h ^ data[i]) * kFnvPrime;
  return h ^ size;
}

std::string WeightBlobHeader::description() const {
  return game_spec + " " + config.shape_string();
}

uint64_t weight_layout_tag(const std::string& architecture, const std::string& game_spec,
                           const NetConfig& config, const std::vector<BlobTensor>& tensors) {
  uint64_t h = kFnvOffset;
  hash_string(&h, architecture);
  hash_string(&h, game_spec);
  const int32_t shape[2] = {config.blocks, config.filters};
  hash_bytes(&h, shape, sizeof shape);
  for (const auto& t : tensors) {
    hash_string(&h, t.name);
    const uint32_t dtype = static_cast<uint32_t>(t.dtype);
    hash_bytes(&h, &dtype, sizeof dtype);
    const uint64_t ndim = t.shape.size();
    hash_bytes(&h, &ndim, sizeof ndim);
    hash_bytes(&h, t.shape.data(), t.shape.size() * sizeof(int64_t));
  }
  return h;
}

std::vector<uint8_t> write_weight_blob(const std::string& architecture,
                                       const std::string& game_spec, const NetConfig& config,
                                       const std::vector<BlobTensorData>& tensors) {
  std::vector<BlobTensor> described;
  uint64_t payload = 0;
  for (const auto& t : tensors) {
    BlobTensor d;
    d.name = t.name;
    d.dtype = t.dtype;
    d.shape = t.shape;
    d.bytes = element_count(t.shape) * blob_dtype_size(t.dtype);
    d.offset = payload;  // relative for now
    payload = align8(payload + d.bytes);
    described.push_back(std::move(d));
  }
  Writer w;
  w.str(std::string(kMagic, sizeof kMagic));
  w.put<uint32_t>(kWeightBlobFormatVersion);
  w.put<uint32_t>(0);  // header bytes, patched below
  w.put<uint64_t>(weight_layout_tag(architecture, game_spec, config, described));
  w.put<uint64_t>(payload);
  w.put<uint64_t>(0);  // checksum, patched below
  w.put<int32_t>(config.blocks);
  w.put<int32_t>(config.filters);
  w.put<uint32_t>(static_cast<uint32_t>(architecture.size()));
  w.put<uint32_t>(static_cast<uint32_t>(game_spec.size()));
  w.put<uint32_t>(static_cast<uint32_t>(tensors.size()));
  w.str(architecture);
  w.str(game_spec);
  for (const auto& t : described) {
    w.put<uint32_t>(static_cast<uint32_t>(t.name.size()));
    w.str(t.name);
    w.put<uint32_t>(static_cast<uint32_t>(t.dtype));
    w.put<uint32_t>(static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) w.put<int64_t>(d);
  }
  w.pad8();
  const uint64_t header_bytes = w.out.size();
  std::vector<uint8_t>& out = w.out;
  out.resize(header_bytes + payload, 0);
  for (size_t i = 0; i < tensors.size(); ++i)
    if (described[i].bytes)
      std::memcpy(out.data() + header_bytes + described[i].offset, tensors[i].data,
                  described[i].bytes);
  const uint32_t hb = static_cast<uint32_t>(header_bytes);
  std::memcpy(out.data() + 12, &hb, 4);
  const uint64_t sum = blob_checksum(out.data() + header_bytes, payload);
  std::memcpy(out.data() + 32, &sum, 8);
  return out;
}

WeightBlobHeader parse_weight_blob_header(const uint8_t* data, size_t size) {
  if (data == nullptr || size < kFixedHeaderBytes)
    throw WeightBlobError("weight blob is " + std::to_string(size) +
                          " bytes, too short for a header: the file or slot is damaged or "
                          "empty; use an intact checkpoint");
  if (std::memcmp(data, kMagic, sizeof kMagic) != 0)
    throw WeightBlobError(
        "not a ringzero weight blob (bad magic): pass a checkpoint or blob written by ringzero");
  Reader r(data + sizeof kMagic, size - sizeof kMagic);
  WeightBlobHeader h;
  h.format_version = r.get<uint32_t>("version");
  if (h.format_version != kWeightBlobFormatVersion)
    throw WeightBlobError("weight blob format version " + std::to_string(h.format_version) +
                          " is not supported (this build reads version " +
                          std::to_string(kWeightBlobFormatVersion) +
                          "): use a checkpoint written by this ringzero version");
  const uint32_t header_bytes = r.get<uint32_t>("header size");
  h.layout_tag = r.get<uint64_t>("layout tag");
  h.payload_bytes = r.get<uint64_t>("payload size");
  const uint64_t checksum = r.get<uint64_t>("checksum");
  h.config.blocks = r.get<int32_t>("network config");
  h.config.filters = r.get<int32_t>("network config");
  const uint32_t arch_len = r.get<uint32_t>("architecture name");
  const uint32_t spec_len = r.get<uint32_t>("game spec");
  const uint32_t count = r.get<uint32_t>("tensor count");
  if (arch_len > kMaxStringBytes || spec_len > kMaxStringBytes || count > kMaxTensors)
    throw WeightBlobError(
        "weight blob header is damaged (implausible lengths): use an intact "
        "checkpoint");
  h.architecture = r.str(arch_len, "architecture name");
  h.game_spec = r.str(spec_len, "game spec");
  if (!is_printable(h.architecture) || !is_printable(h.game_spec))
    throw WeightBlobError(
        "weight blob header is damaged (unprintable architecture or game spec): use an intact "
        "checkpoint");
  uint64_t payload = 0;
  for (uint32_t i = 0; i < count; ++i) {
    BlobTensor t;
    const uint32_t name_len = r.get<uint32_t>("tensor table");
    if (name_len > kMaxStringBytes)
      throw WeightBlobError("weight blob tensor table is damaged: use an intact checkpoint");
    t.name = r.str(name_len, "tensor table");
    if (!is_printable(t.name))
      throw WeightBlobError(
          "weight blob tensor table is damaged (unprintable tensor name): use an intact "
          "checkpoint");
    t.dtype = static_cast<BlobDType>(r.get<uint32_t>("tensor table"));
    const uint32_t ndim = r.get<uint32_t>("tensor table");
    if (blob_dtype_size(t.dtype) == 0 || ndim > kMaxDims)
      throw WeightBlobError("weight blob tensor table is damaged (tensor '" + printable(t.name) +
                            "'): use an intact checkpoint");
    for (uint32_t d = 0; d < ndim; ++d) t.shape.push_back(r.get<int64_t>("tensor table"));
    const uint64_t n = element_count(t.shape);
    if (n == std::numeric_limits<uint64_t>::max() || n * blob_dtype_size(t.dtype) > size)
      throw WeightBlobError("weight blob tensor table is damaged (tensor '" + printable(t.name) +
                            "' has an impossible shape): use an intact checkpoint");
    t.bytes = n * blob_dtype_size(t.dtype);
    t.offset = payload;  // relative until the header size is known
    payload = align8(payload + t.bytes);
    h.tensors.push_back(std::move(t));
  }
  const uint64_t table_end = align8(sizeof kMagic + r.pos());
  if (header_bytes != table_end || payload != h.payload_bytes)
    throw WeightBlobError(
        "weight blob header is damaged (sizes disagree): use an intact "
        "checkpoint");
  if (uint64_t(size) != header_bytes + h.payload_bytes)
    throw WeightBlobError("weight blob is " + std::to_string(size) + " bytes but its header says " +
                          std::to_string(header_bytes + h.payload_bytes) +
                          " (truncated or padded): use an intact checkpoint");
  // The padding is part of the header too: zero, or the blob was damaged.
  for (uint64_t i = sizeof kMagic + r.pos(); i < header_bytes; ++i)
    if (data[i] != 0)
      throw WeightBlobError(
          "weight blob header is damaged (non-zero padding): use an intact "
          "checkpoint");
  if (weight_layout_tag(h.architecture, h.game_spec, h.config, h.tensors) != h.layout_tag)
    throw WeightBlobError(
        "weight blob header is damaged (layout tag does not match its "
        "contents): use an intact checkpoint");
  if (blob_checksum(data + header_bytes, h.payload_bytes) != checksum)
    throw WeightBlobError(
        "weight blob payload is corrupted (checksum mismatch): use an intact "
        "checkpoint");
  h.payload_offset = header_bytes;
  for (auto& t : h.tensors) t.offset += header_bytes;
  return h;
}

}  // namespace rz
