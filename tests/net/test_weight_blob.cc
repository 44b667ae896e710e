// The weight blob format on its own, linked WITHOUT LibTorch (ringzero_core only): tools and
// the actor's checks parse blobs this way. Random damage anywhere must be refused with a
// WeightBlobError, never accepted and never a crash (run it under -fsanitize=address).
#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <vector>

#include "common/net/weight_blob.h"

namespace rz {
namespace {

struct Fixture {
  std::vector<float> weight = std::vector<float>(37, 1.5f);
  std::vector<int64_t> counter = {7};
  std::vector<float> bias = {-2.0f, 0.5f, 3.0f, 4.0f, 5.0f};
  std::vector<uint8_t> blob =
      write_weight_blob("test-arch", "connect4", NetConfig{2, 8},
                        {{"conv.weight", BlobDType::kFloat32, {37}, weight.data()},
                         {"bn.num_batches_tracked", BlobDType::kInt64, {}, counter.data()},
                         {"fc.bias", BlobDType::kFloat32, {1, 5}, bias.data()}});
};

bool refused(const std::vector<uint8_t>& b) {
  try {
    parse_weight_blob_header(b.data(), b.size());
  } catch (const WeightBlobError& e) {
    REQUIRE(std::string(e.what()).find('\n') == std::string::npos);
    return true;
  }
  return false;
}

TEST_CASE("weight blob: written tensors come back with their names, shapes and bytes",
          "[net][blob]") {
  Fixture f;
  const WeightBlobHeader h = parse_weight_blob_header(f.blob.data(), f.blob.size());
  CHECK(h.format_version == kWeightBlobFormatVersion);
  CHECK(h.architecture == "test-arch");
  CHECK(h.description() == "connect4 2x8");
  REQUIRE(h.tensors.size() == 3);
  CHECK(h.tensors[0].name == "conv.weight");
  CHECK(h.tensors[1].shape.empty());  // a scalar
  CHECK(h.tensors[2].shape == std::vector<int64_t>({1, 5}));
  CHECK(h.payload_offset % 8 == 0);
  for (const auto& t : h.tensors) CHECK(t.offset % 8 == 0);
  CHECK(std::memcmp(f.blob.data() + h.tensors[0].offset, f.weight.data(), 37 * 4) == 0);
  int64_t counter = 0;
  std::memcpy(&counter, f.blob.data() + h.tensors[1].offset, 8);
  CHECK(counter == 7);
  CHECK(std::memcmp(f.blob.data() + h.tensors[2].offset, f.bias.data(), 5 * 4) == 0);
  CHECK(h.payload_offset + h.payload_bytes == f.blob.size());
  CHECK(h.layout_tag == weight_layout_tag("test-arch", "connect4", NetConfig{2, 8}, h.tensors));
}

TEST_CASE("weight blob: the layout tag depends on every part of the layout", "[net][blob]") {
  Fixture f;
  const auto tensors = parse_weight_blob_header(f.blob.data(), f.blob.size()).tensors;
  const uint64_t tag = weight_layout_tag("test-arch", "connect4", {2, 8}, tensors);
  CHECK(weight_layout_tag("test-arch2", "connect4", {2, 8}, tensors) != tag);
  CHECK(weight_layout_tag("test-arch", "tictactoe", {2, 8}, tensors) != tag);
  CHECK(weight_layout_tag("test-arch", "connect4", {3, 8}, tensors) != tag);
  auto renamed = tensors;
  renamed[0].name = "conv.weight2";
  CHECK(weight_layout_tag("test-arch", "connect4", {2, 8}, renamed) != tag);
  auto reshaped = tensors;
  reshaped[2].shape = {5, 1};
  CHECK(weight_layout_tag("test-arch", "connect4", {2, 8}, reshaped) != tag);
}

TEST_CASE("weight blob: every truncation and random damage is refused", "[net][blob]") {
  Fixture f;
  for (size_t n = 0; n < f.blob.size(); ++n) {
    INFO("truncated to " << n);
    REQUIRE(refused(std::vector<uint8_t>(f.blob.begin(), f.blob.begin() + n)));
  }
  std::mt19937 rng(1);
  for (int it = 0; it < 20000; ++it) {
    auto bad = f.blob;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int j = 0; j < flips; ++j) bad[rng() % bad.size()] ^= uint8_t(1 + rng() % 255);
    if (bad == f.blob) continue;
    INFO("iteration " << it);
    REQUIRE(refused(bad));
  }
  CHECK_THROWS_WITH(parse_weight_blob_header(nullptr, 0),
                    Catch::Contains("too short for a header"));
}

TEST_CASE("weight blob: another format version is refused by name", "[net][blob]") {
  Fixture f;
  auto bad = f.blob;
  const uint32_t v = kWeightBlobFormatVersion + 1;
  std::memcpy(bad.data() + 8, &v, 4);
  CHECK_THROWS_WITH(parse_weight_blob_header(bad.data(), bad.size()),
                    Catch::Contains("format version 2 is not supported"));
}

TEST_CASE("NetConfig: bad shapes are refused naming the field", "[net]") {
  CHECK_NOTHROW(NetConfig{}.validate());
  CHECK(NetConfig{}.shape_string() == "4x64");
  CHECK_THROWS_WITH((NetConfig{-1, 64}.validate()), Catch::Contains("blocks=-1"));
  CHECK_THROWS_WITH((NetConfig{4, 0}.validate()), Catch::Contains("filters=0"));
  CHECK_THROWS_WITH((NetConfig{4, 5000}.validate()), Catch::Contains("filters=5000"));
}

}  // namespace
}  // namespace rz
