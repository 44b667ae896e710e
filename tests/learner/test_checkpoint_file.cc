// The checkpoint container: round trip, every kind of damage refused, newest-valid
// selection with a warning, pruning; the learner's starting point (learner/starting_point.h).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/checkpoint_file.h"
#include "learner/starting_point.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

using namespace rz;

namespace {

CheckpointSections sample_sections(uint64_t step) {
  auto text = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  std::vector<uint8_t> weights(1000);
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<uint8_t>(i * 7 + step);
  return {{"game_spec", text("tictactoe")},
          {"net_shape", text("1x16")},
          {"config", text("game=tictactoe\n")},
          {"weights", weights},
          {"optimizer", text("momentum")},
          {"step", u64_bytes(step)},
          {"weight_version", u64_bytes(step / 10 + 1)},
          {"rng", text("1 2 3")}};
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  const std::string bytes = rz::testing::read_file(path);
  return {bytes.begin(), bytes.end()};
}

void put_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// A temporary run directory with its checkpoints/ folder.
struct CheckpointDir {
  rz::testing::TempDir temp;
  std::string dir;
  explicit CheckpointDir(const std::string& tag) : temp(tag), dir(temp.path()) {
    ::mkdir(checkpoint_dir(dir).c_str(), 0755);
  }
  // Writes sample_sections(step) as the checkpoint of `step`; returns its path.
  std::string write(uint64_t step) const {
    const std::string path = checkpoint_path(dir, step);
    write_checkpoint_sections(path, sample_sections(step));
    return path;
  }
};

}  // namespace

TEST_CASE("checkpoint container round-trips every section") {
  const CheckpointDir ckpts("ckpt");
  const std::string path = ckpts.write(120);
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
  const CheckpointDir ckpts("ckpt");
  const std::string path = ckpts.write(5);
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
  CHECK_THROWS_WITH(read_checkpoint(path),
                    Catch::Contains("corrupt") || Catch::Contains("truncated"));
  auto extended = good;
  extended.push_back(0);
  put_bytes(path, extended);
  CHECK_THROWS_AS(read_checkpoint(path), CheckpointError);
  put_bytes(path, {});
  CHECK_THROWS_WITH(read_checkpoint(path), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(read_checkpoint(ckpts.dir + "/missing.rzck"), Catch::Contains("cannot open"));
  put_bytes(path, good);
  CHECK(read_checkpoint(path).step == 5);
}

TEST_CASE("latest_valid_checkpoint skips a corrupt newest one and prune keeps the newest k") {
  const CheckpointDir ckpts("ckpt");
  const std::string& dir = ckpts.dir;
  CHECK(latest_valid_checkpoint(dir).empty());
  for (uint64_t step : {100, 200, 300, 1000}) ckpts.write(step);
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

TEST_CASE(
    "the starting point: fresh, newest valid, refusal when none is valid or without --resume") {
  const rz::testing::TempDir temp("start");
  const std::string& dir = temp.path();
  // No directory, then an empty one: fresh weights, with or without --resume.
  CHECK(choose_starting_point(dir, false).path.empty());
  CHECK(choose_starting_point(dir, true).path.empty());
  ::mkdir(checkpoint_dir(dir).c_str(), 0755);
  put_bytes(checkpoint_dir(dir) + "/ckpt-0000000300.rzck.corrupt", {1, 2, 3});  // set aside before
  CHECK(choose_starting_point(dir, true).path.empty());
  CHECK(choose_starting_point(dir, true).skipped.empty());

  for (uint64_t step : {100, 200})
    write_checkpoint_sections(checkpoint_path(dir, step), sample_sections(step));
  CHECK_THROWS_WITH(choose_starting_point(dir, false),
                    Catch::Contains("already holds checkpoints; pass --resume"));
  StartingPoint s = choose_starting_point(dir, true);
  CHECK(s.path == checkpoint_path(dir, 200));
  CHECK(s.skipped.empty());

  // The newest damaged: the one before it, the damaged one reported (nothing renamed yet).
  auto b = file_bytes(checkpoint_path(dir, 200));
  b[b.size() / 2] ^= 1;
  put_bytes(checkpoint_path(dir, 200), b);
  s = choose_starting_point(dir, true);
  CHECK(s.path == checkpoint_path(dir, 100));
  REQUIRE(s.skipped.size() == 1);
  CHECK(s.skipped[0].first == checkpoint_path(dir, 200));
  CHECK(s.skipped[0].second ==
        "checkpoint " + checkpoint_path(dir, 200) + " is corrupt (checksum mismatch)");
  CHECK(file_bytes(checkpoint_path(dir, 200)) == b);

  // All damaged: refused, naming the count, the directory, the newest's problem and the fix.
  put_bytes(checkpoint_path(dir, 100), {'R', 'Z'});
  CHECK_THROWS_WITH(choose_starting_point(dir, true),
                    "no valid checkpoint among 2 file(s) in " + checkpoint_dir(dir) +
                        " (newest: checkpoint " + checkpoint_path(dir, 200) +
                        " is corrupt (checksum mismatch)): restore a good checkpoint or start a "
                        "new run without --resume");
  CHECK(list_checkpoints(dir).size() == 2);
}

TEST_CASE("a set-aside checkpoint keeps its bytes under a free name, out of listing and pruning") {
  const CheckpointDir ckpts("aside");
  const std::string& dir = ckpts.dir;
  const std::string p = checkpoint_path(dir, 500);
  put_bytes(p, {9, 9, 9});
  CHECK(set_aside_corrupt_checkpoint(p) == p + ".corrupt");
  put_bytes(p, {8, 8});
  CHECK(set_aside_corrupt_checkpoint(p) == p + ".corrupt.2");  // the first is not overwritten
  CHECK(file_bytes(p + ".corrupt") == std::vector<uint8_t>{9, 9, 9});
  CHECK(file_bytes(p + ".corrupt.2") == std::vector<uint8_t>{8, 8});
  CHECK(::access(p.c_str(), F_OK) != 0);
  CHECK_THROWS_WITH(set_aside_corrupt_checkpoint(p),
                    Catch::Contains("cannot set aside corrupt checkpoint"));

  // Pruning counts real checkpoints only and never deletes set-aside files.
  for (uint64_t step : {100, 200, 300}) ckpts.write(step);
  CHECK(list_checkpoints(dir).size() == 3);
  prune_checkpoints(dir, 2);
  CHECK(list_checkpoints(dir) ==
        std::vector<std::string>{checkpoint_path(dir, 200), checkpoint_path(dir, 300)});
  CHECK(file_bytes(p + ".corrupt") == std::vector<uint8_t>{9, 9, 9});
  CHECK(file_bytes(p + ".corrupt.2") == std::vector<uint8_t>{8, 8});
}

// Issue #13 finding 9: a FIFO or a huge file under a checkpoint's name is refused by its type
// and size before a byte is read (a FIFO used to block the learner forever, a huge file was
// read whole into memory).
TEST_CASE("a FIFO or an oversized file named ckpt-*.rzck is refused at once, the valid one used") {
  const std::string dir = rz::testing::make_temp_dir("ckpt-fifo");
  REQUIRE(::mkdir(checkpoint_dir(dir).c_str(), 0700) == 0);
  write_checkpoint_sections(checkpoint_path(dir, 10), sample_sections(10));
  REQUIRE(::mkfifo(checkpoint_path(dir, 30).c_str(), 0600) == 0);
  {
    const int fd = ::open(checkpoint_path(dir, 20).c_str(), O_WRONLY | O_CREAT, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, static_cast<off_t>(kMaxCheckpointBytes + 1)) == 0);  // sparse
    ::close(fd);
  }
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child == 0) {
    ::alarm(10);  // a read that blocks on the FIFO fails the test instead of hanging it
    bool ok = false;
    try {
      read_checkpoint(checkpoint_path(dir, 30));
    } catch (const CheckpointError& e) {
      ok = std::string(e.what()).find("is not a regular file") != std::string::npos;
    }
    try {
      read_checkpoint(checkpoint_path(dir, 20));
      ok = false;
    } catch (const CheckpointError& e) {
      ok = ok && std::string(e.what()).find("more than any checkpoint") != std::string::npos;
    }
    ok = ok && latest_valid_checkpoint(dir) == checkpoint_path(dir, 10);
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::filesystem::remove_all(dir);
}
