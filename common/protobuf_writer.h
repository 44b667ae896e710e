// ProtoWriter: the few lines of protocol-buffer wire format that ringzero writes, for the two
// standard files it produces without the protobuf library: ONNX models (common/export/onnx_model.h)
// and TensorBoard event files (common/tensorboard_log.h). Both formats are fixed, published
// .proto schemas; encoding them by hand keeps a 20 MB dependency (and its generated code) out
// of the build for a few hundred bytes of framing.
//
// Wire format (https://protobuf.dev/programming-guides/encoding/): each field is a key
// varint (field number << 3 | wire type) followed by the value: type 0 a varint, type 1 eight
// little-endian bytes, type 5 four, type 2 a varint length and that many bytes (strings,
// bytes, packed repeated scalars and nested messages alike). Fields are written in the order
// the caller adds them; parsers accept any order. Torch-free and game-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rz {

class ProtoWriter {
 public:
  // Integer fields (int32, int64, uint64, enum, bool): a varint. Negative values are written
  // as 10-byte two's complement varints, as int64 fields require.
  ProtoWriter& varint(int field, int64_t value);
  // double (wire type 1) and float (wire type 5) fields.
  ProtoWriter& double_field(int field, double value);
  ProtoWriter& float_field(int field, float value);
  // string / bytes fields.
  ProtoWriter& bytes(int field, std::string_view value);
  ProtoWriter& bytes(int field, const void* data, size_t size);
  // A nested message field: `message`'s bytes, length-prefixed.
  ProtoWriter& message(int field, const ProtoWriter& message);
  // A packed repeated int64 field (one length-prefixed run of varints).
  ProtoWriter& packed_varints(int field, const std::vector<int64_t>& values);

  const std::string& data() const { return out_; }
  size_t size() const { return out_.size(); }

 private:
  void key(int field, int wire_type);
  void raw_varint(uint64_t v);

  std::string out_;
};

}  // namespace rz
