// The checkpoint container: round trip, every kind of damage refused, newest-valid
// selection with a warning, pruning.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/checkpoint_file.h"
#include "tests/learner/process_harness.h"

using namespace rz;

namespace {

CheckpointSections sample_sections(uint64_t step) {
  auto text = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  std::vector<uint8_t> weights(1000);
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<uint8_t>(i * 7 + step);
  return {{"game_spec", text("tictactoe")}, {"net_shape", text("1x16")},
          {"config", text("game=tictactoe\n")}, {"weights", weights},
          {"optimizer", text("momentum")},     {"step", u64_bytes(step)},
          {"weight_version", u64_bytes(step / 10 + 1)}, {"rng", text("1 2 3")}};
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace

TEST_CASE("checkpoint container round-trips every section") {
  rz::testing::TempDir temp("ckpt");
  const std::string& dir = temp.path;
  ::mkdir(checkpoint_dir(dir).c_str(), 0755);
  std::string path = checkpoint_path(dir, 120);
  write_checkpoint_sections(path, sample_sections(120));
  CheckpointInfo info = read_checkpoint(path);
  CHECK(info.game_spec == "tictactoe");
  CHECK(info.net_shape == "1x16");
  CHECK(info.step == 120);
  CHECK(info.weight_version == 13);
  CHECK(info.weights == sample_sections(120)[3].second);
  CHECK(info.config_text == "game=tictactoe\n");
  auto sections = read_checkpoint_sections(path);
  CHECK(sections.at("rng") == sample_sections(120)[7].second);
}

TEST_CASE("checkpoint container refuses damage of any byte, truncation and extension") {
  rz::testing::TempDir temp("ckpt");
  const std::string& dir = temp.path;
  ::mkdir(checkpoint_dir(dir).c_str(), 0755);
  std::string path = checkpoint_path(dir, 5);
  write_checkpoint_sections(path, sample_sections(5));
  const std::vector<uint8_t> good = file_bytes(path);
  // Every single-byte flip is caught (checksum, magic or structure).
  for (size_t i = 0; i < good.size(); i += 13) {
    auto bad = good;
    bad[i] ^= 0x40;
    put_bytes(path, bad);
    CHECK_THROWS_AS(read_checkpoint(path), CheckpointError);
  }
  auto truncated = good;
  truncated.resize(good.size() - 9);
  put_bytes(path, truncated);
  CHECK_THROWS_WITH(read_checkpoint(path), Catch::Contains("corrupt") || Catch::Contains("truncated"));
  auto extended = good;
  extended.push_back(0);
  put_bytes(path, extended);
  CHECK_THROWS_AS(read_checkpoint(path), CheckpointError);
  put_bytes(path, {});
  CHECK_THROWS_WITH(read_checkpoint(path), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(read_checkpoint(dir + "/missing.rzck"), Catch::Contains("cannot open"));
  put_bytes(path, good);
  CHECK(read_checkpoint(path).step == 5);
}

TEST_CASE("latest_valid_checkpoint skips a corrupt newest one and prune keeps the newest k") {
  rz::testing::TempDir temp("ckpt");
  const std::string& dir = temp.path;
  ::mkdir(checkpoint_dir(dir).c_str(), 0755);
  CHECK(latest_valid_checkpoint(dir).empty());
  for (uint64_t step : {100, 200, 300, 1000}) write_checkpoint_sections(checkpoint_path(dir, step), sample_sections(step));
  // A stray tmp file from a writer killed before its rename is not a checkpoint.
  put_bytes(checkpoint_path(dir, 5000) + ".tmp.99999", {1, 2, 3});
  CHECK(list_checkpoints(dir).size() == 4);
  CHECK(latest_valid_checkpoint(dir) == checkpoint_path(dir, 1000));

  auto b = file_bytes(checkpoint_path(dir, 1000));
  b[b.size() / 2] ^= 1;
  put_bytes(checkpoint_path(dir, 1000), b);
  CHECK(latest_valid_checkpoint(dir) == checkpoint_path(dir, 300));

  prune_checkpoints(dir, 2);
  auto left = list_checkpoints(dir);
  REQUIRE(left.size() == 2);
  CHECK(left[0] == checkpoint_path(dir, 300));
  CHECK(left[1] == checkpoint_path(dir, 1000));
  CHECK(::access((checkpoint_path(dir, 5000) + ".tmp.99999").c_str(), F_OK) != 0);
}
