// ringzero-eval as users run it: a real process on real files (a weight blob written by the
// network's own code, Pons' positions), its output and its errors.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "common/checkpoint_file.h"
#include "common/game.h"
#include "common/net/net_evaluator.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"

namespace {

const std::string kEval = std::string(RZ_BINARY_DIR) + "/common/eval/ringzero-eval";
const std::string kData = std::string(RZ_SHARED_DATA) + "/connect4/";
// CTest runs each test case as its own process, in parallel: scratch files carry the pid.
const std::string kScratch = "cli_" + std::to_string(getpid()) + "_";
// ... removed when the process ends.
struct ScratchCleanup {
  ~ScratchCleanup() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(".", ec))
      if (e.path().filename().string().rfind(kScratch, 0) == 0)
        std::filesystem::remove(e.path(), ec);
  }
} scratch_cleanup;

struct Run {
  int status = -1;
  std::string out;  // stdout and stderr
};

Run run(const std::string& args) {
  const auto r = rz::testing::run_command(kEval + " " + args);
  return {r.code, r.output};
}

// A small untrained Connect Four network's blob, as the learner would publish it.
std::string write_blob(const std::string& game_spec, const std::string& path) {
  const auto game = rz::make_game(game_spec);
  rz::NetConfig config;
  config.blocks = 1;
  config.filters = 8;
  rz::NetEvaluator net(*game, config, 8, 1, /*seed=*/7);
  const auto blob = net.blob();
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(blob.data()), static_cast<std::streamsize>(blob.size()));
  return path;
}

std::string first_lines(const std::string& name, int n, const std::string& path) {
  return rz::testing::write_file(path, rz::testing::first_lines(kData + name, n));
}

// The same network inside a checkpoint container, as the learner writes one.
std::string write_checkpoint(const std::string& blob_path, const std::string& path) {
  const std::string bytes = rz::testing::read_file(blob_path);
  const std::vector<uint8_t> blob(bytes.begin(), bytes.end());
  const auto text = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  rz::write_checkpoint_sections(path, {{"game_spec", text("connect4")},
                                       {"net_shape", text("1x8")},
                                       {"config", text("[game]\nspec=connect4\n")},
                                       {"weights", blob},
                                       {"step", rz::u64_bytes(100)},
                                       {"weight_version", rz::u64_bytes(3)}});
  return path;
}

}  // namespace

TEST_CASE("ringzero-eval reads checkpoints, and refuses a corrupted one") {
  const auto blob = write_blob("connect4", kScratch + "c4.blob");
  const auto ckpt = write_checkpoint(blob, kScratch + "c4.rzck");
  const auto positions = first_lines("Test_L2_R1", 5, kScratch + "ckpt.txt");
  const auto from_blob = run("moves --positions " + positions + " --weights " + blob);
  const auto from_ckpt = run("moves --positions " + positions + " --checkpoint " + ckpt);
  REQUIRE(from_blob.status == 0);
  REQUIRE(from_ckpt.status == 0);
  CHECK(from_ckpt.out == from_blob.out);  // same weights, same raw-policy moves
  // Flip one byte in the middle: the whole-file checksum refuses it.
  {
    std::fstream f(ckpt, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('\x5a');
  }
  const auto bad = run("moves --positions " + positions + " --checkpoint " + ckpt);
  CHECK(bad.status != 0);
  CHECK_THAT(bad.out, Catch::Contains(kScratch + "c4.rzck"));
  CHECK(std::count(bad.out.begin(), bad.out.end(), '\n') == 1);
  const auto both =
      run("moves --positions " + positions + " --checkpoint " + ckpt + " --weights " + blob);
  CHECK(both.status == 2);
  CHECK_THAT(both.out, Catch::Contains("exactly one"));
}

TEST_CASE("ringzero-eval moves: one line per position with a legal 1-based column") {
  const auto blob = write_blob("connect4", kScratch + "c4.blob");
  const auto positions = first_lines("Test_L2_R1", 20, kScratch + "moves.txt");
  for (const char* sims : {"0", "16"}) {
    const auto r = run("moves --positions " + positions + " --weights " + blob + " --sims " + sims);
    INFO(r.out);
    REQUIRE(r.status == 0);
    std::istringstream out(r.out), in(std::string{});
    std::ifstream expected(positions);
    std::string line, moves, score, got_moves;
    int lines = 0;
    while (std::getline(expected, line)) {
      std::istringstream(line) >> moves;
      std::string got;
      REQUIRE(std::getline(out, got));
      std::istringstream fields(got);
      int column = 0;
      fields >> got_moves >> column;
      CHECK(got_moves == moves);
      // Legal: the column is not full after the moves.
      const auto count = std::count(moves.begin(), moves.end(), static_cast<char>('0' + column));
      CHECK(column >= 1);
      CHECK(column <= 7);
      CHECK(count < 6);
      ++lines;
    }
    CHECK(lines == 20);
  }
}

TEST_CASE("ringzero-eval moves: a bad line is a one-line error naming the line") {
  const auto blob = write_blob("connect4", kScratch + "c4.blob");
  std::ofstream(kScratch + "bad.txt") << "4455 18\n44444445 3\n";
  auto r = run("moves --positions " + kScratch + "bad.txt --weights " + blob);
  CHECK(r.status != 0);
  CHECK_THAT(r.out, Catch::Contains(kScratch + "bad.txt:2"));
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  std::ofstream(kScratch + "bad.txt") << "4455 18\n44x5\n";
  r = run("moves --positions " + kScratch + "bad.txt --weights " + blob);
  CHECK(r.status != 0);
  CHECK_THAT(r.out, Catch::Contains(kScratch + "bad.txt:2"));
  // A damaged network file is refused, not loaded.
  std::ofstream(kScratch + "junk.blob") << "not a network";
  r = run("moves --positions " + kScratch + "bad.txt --weights " + kScratch + "junk.blob");
  CHECK(r.status != 0);
  CHECK_THAT(r.out, Catch::Contains(kScratch + "junk.blob"));
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
}

TEST_CASE("ringzero-eval accuracy: reports policy and MCTS, caches labels") {
  const auto blob = write_blob("connect4", kScratch + "c4.blob");
  const auto positions = first_lines("Test_L2_R1", 30, kScratch + "accuracy.txt");
  std::remove((kScratch + "accuracy.txt.labels").c_str());
  auto r = run("accuracy --positions " + positions + " --weights " + blob + " --sims 16");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("labels solved"));
  CHECK_THAT(r.out, Catch::Contains("policy"));
  CHECK_THAT(r.out, Catch::Contains("mcts:16"));
  r = run("accuracy --positions " + positions + " --weights " + blob + " --sims 16 --gumbel");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("gumbel:16"));
  r = run("accuracy --positions " + positions + " --weights " + blob + " --sims 0 --json");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("labels read from cache"));
  CHECK_THAT(r.out, Catch::Contains("\"optimal\""));
  std::remove((kScratch + "accuracy.txt.labels").c_str());
}

TEST_CASE("ringzero-eval positions --out: the set and its labels, which accuracy reads unsolved") {
  const std::string file = kScratch + "made.txt";
  const std::string args = "positions --count 6 --stones 20-25 --seed 11";
  auto r = run(args + " --out " + file);
  INFO(r.out);
  REQUIRE(r.status == 0);
  const auto lines = rz::testing::read_lines(file);
  CHECK(lines.size() == 6);
  // The same seed on stdout gives the same set (the stderr progress lines aside).
  std::string printed;
  for (const auto& line : rz::testing::split_lines(run(args).out))
    if (line.rfind("positions:", 0) != 0) printed += line + "\n";
  CHECK(printed == rz::testing::read_file(file));
  // The labels written on the way are the solver's: solving afresh into another cache gives
  // the same bytes, and accuracy takes the written cache without solving.
  const auto blob = write_blob("connect4", kScratch + "made.blob");
  r = run("accuracy --positions " + file + " --weights " + blob + " --labels " + kScratch +
          "solved.labels");
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("labels solved"));
  CHECK(rz::testing::read_file(kScratch + "solved.labels") ==
        rz::testing::read_file(file + ".labels"));
  r = run("accuracy --positions " + file + " --weights " + blob);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("labels read from cache"));
  CHECK_THAT(r.out, Catch::Contains("6 positions; 6 where some move loses"));
}

TEST_CASE("ringzero-eval positions: a stone count no position can reach is one line, exit 1") {
  // 41 stones leave one legal move, which can never lose the result: nothing qualifies.
  const auto r = run("positions --count 1 --stones 41-41 --out " + kScratch + "none.txt");
  CHECK(r.status == 1);
  CHECK_THAT(r.out, Catch::Contains("lower the upper end"));
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  CHECK(rz::testing::read_file(kScratch + "none.txt").empty());
}

TEST_CASE("ringzero-eval arena: baselines, networks and errors") {
  auto r = run("arena --game tictactoe --a minimax --b random --games 20");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("Elo"));
  CHECK_THAT(r.out, Catch::Contains("0 L"));
  const auto blob = write_blob("connect4", kScratch + "c4.blob");
  r = run("arena --game connect4 --a net:" + blob + " --b random --games 4 --sims 8 --json");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("\"games\": 4"));
  // The same network searching with the Gumbel root; gnet:PATH takes --sims like net:PATH.
  r = run("arena --game connect4 --a gnet:" + blob + " --b random --games 4 --sims 8 --json");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("gnet:" + blob + ":8"));
  // A network for another game is refused with one line.
  const auto ttt = write_blob("tictactoe", kScratch + "ttt.blob");
  r = run("arena --game connect4 --a net:" + ttt + " --b random --games 2");
  CHECK(r.status != 0);
  CHECK_THAT(r.out, Catch::Contains("tictactoe"));
  r = run("arena --game connect4 --a wizard --b random");
  CHECK(r.status != 0);
  CHECK_THAT(r.out, Catch::Contains("unknown agent"));
  r = run("arena --game connect4 --a random --b random --games -3");
  CHECK(r.status == 2);
  CHECK_THAT(r.out, Catch::Contains("--games"));
  r = run("arena --game connect4 --a solver --b random --games 2");
  CHECK(r.status == 2);
  CHECK_THAT(r.out, Catch::Contains("--openings"));
  // The solver from real openings, against rollout MCTS: it never loses a won opening, so
  // over 4 games (2 openings x both colours) it scores at least what the openings give.
  r = run("arena --game connect4 --a solver --b mcts:50 --games 4 --openings " + kData +
          "Test_L2_R1 --json");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("\"a\": \"solver\""));
}
