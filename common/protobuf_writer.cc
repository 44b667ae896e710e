#include "common/protobuf_writer.h"

#include <cstring>

namespace rz {

void ProtoWriter::raw_varint(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void ProtoWriter::key(int field, int wire_type) {
  raw_varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type));
}

ProtoWriter& ProtoWriter::varint(int field, int64_t value) {
  key(field, 0);
  raw_varint(static_cast<uint64_t>(value));
  return *this;
}

ProtoWriter& ProtoWriter::double_field(int field, double value) {
  key(field, 1);
  char b[8];
  std::memcpy(b, &value, 8);  // little-endian machines only, like every ringzero format
  out_.append(b, 8);
  return *this;
}

ProtoWriter& ProtoWriter::float_field(int field, float value) {
  key(field, 5);
  char b[4];
  std::memcpy(b, &value, 4);
  out_.append(b, 4);
  return *this;
}

ProtoWriter& ProtoWriter::bytes(int field, const void* data, size_t size) {
  key(field, 2);
  raw_varint(size);
  out_.append(static_cast<const char*>(data), size);
  return *this;
}

ProtoWriter& ProtoWriter::bytes(int field, std::string_view value) {
  return bytes(field, value.data(), value.size());
}

ProtoWriter& ProtoWriter::message(int field, const ProtoWriter& message) {
  return bytes(field, message.data());
}

ProtoWriter& ProtoWriter::packed_varints(int field, const std::vector<int64_t>& values) {
  ProtoWriter run;
  for (int64_t v : values) run.raw_varint(static_cast<uint64_t>(v));
  return bytes(field, run.data());
}

}  // namespace rz
