// Move accuracy and its label cache, on real positions and real files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "common/eval/agent.h"
#include "common/eval/move_accuracy.h"
#include "common/solver/position_file.h"
#include "tests/support/files.h"

namespace {

const std::string kData = std::string(RZ_SHARED_DATA) + "/connect4/";

// The first n lines of a shared positions file copied to a scratch file, and the name of its
// label cache (none yet); both removed at scope end.
struct ScratchPositions {
  std::string file, cache;
  ScratchPositions(const std::string& name, int n)
      : file("accuracy_" + name + ".txt"), cache(file + ".labels") {
    rz::testing::write_file(file, rz::testing::first_lines(kData + name, n));
    std::remove(cache.c_str());
  }
  ~ScratchPositions() {
    std::remove(cache.c_str());
    std::remove(file.c_str());
  }
};

}  // namespace

TEST_CASE("accuracy: optimal and result-keeping moves of the README example") {
  // 4455: -4 -3 18 2 2 18 -3. Optimal: columns 3 and 6. Keeping the win: 3, 4, 5, 6.
  const rz::ColumnScores s{-4, -3, 18, 2, 2, 18, -3};
  CHECK(rz::is_optimal(s, 2));
  CHECK(rz::is_optimal(s, 5));
  CHECK_FALSE(rz::is_optimal(s, 3));
  CHECK(rz::keeps_result(s, 3));
  CHECK_FALSE(rz::keeps_result(s, 0));
  CHECK(rz::some_move_loses_result(s));
  const rz::ColumnScores all_draw{0, 0, rz::Connect4Solver::kInvalidColumn, 0, 0, 0, 0};
  CHECK_FALSE(rz::some_move_loses_result(all_draw));
  CHECK_FALSE(rz::keeps_result(all_draw, 2));
}

TEST_CASE("accuracy: the solver is 100% accurate, random is not") {
  const ScratchPositions scratch("Test_L2_R1", 60);
  const std::string& file = scratch.file;
  rz::Connect4Solver solver(22);
  const auto labels = rz::load_or_solve_labels(file, scratch.cache, 0, solver);
  REQUIRE(labels.positions.size() == 60);
  CHECK_FALSE(labels.from_cache);
  // Labels agree with the file's scores.
  const auto lines = rz::read_position_file(file, true);
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& s = labels.positions[i].scores;
    CHECK(*std::max_element(s.begin(), s.end()) == *lines[i].score);
  }
  const auto game = rz::make_game("connect4");
  auto perfect = rz::make_agent("solver", *game, 1);
  const auto p = rz::measure_accuracy(*game, labels.positions, *perfect);
  CHECK(p.positions == 60);
  REQUIRE(p.counted > 20);
  CHECK(p.optimal == p.counted);
  CHECK(p.keeps == p.counted);
  auto random = rz::make_agent("random", *game, 2);
  const auto r = rz::measure_accuracy(*game, labels.positions, *random);
  CHECK(r.counted == p.counted);
  CHECK(r.keeps < r.counted);
  CHECK(r.optimal <= r.keeps);
}

TEST_CASE("accuracy: the label cache is reused, and rebuilt when stale or damaged") {
  const ScratchPositions scratch("Test_L3_R1", 40);
  const std::string &file = scratch.file, &cache = scratch.cache;
  rz::Connect4Solver solver(20);
  const auto first = rz::load_or_solve_labels(file, cache, 0, solver);
  CHECK_FALSE(first.from_cache);
  const std::string written = rz::testing::read_file(cache);
  REQUIRE(!written.empty());

  // Reused: no solving at all.
  solver.reset();
  const auto second = rz::load_or_solve_labels(file, cache, 0, solver);
  CHECK(second.from_cache);
  CHECK(solver.nodes() == 0);
  REQUIRE(second.positions.size() == first.positions.size());
  for (size_t i = 0; i < first.positions.size(); ++i)
    CHECK(second.positions[i].scores == first.positions[i].scores);
  // A prefix (--limit) is served from the same cache.
  CHECK(rz::load_or_solve_labels(file, cache, 10, solver).from_cache);

  // Damaged: one score changed without fixing the checksum -> ignored, solved, rewritten.
  {
    std::string bad = written;
    const auto pos = bad.find('\n', bad.find('\n', bad.find('\n') + 1) + 1) - 1;
    bad[pos] = bad[pos] == '1' ? '2' : '1';
    std::ofstream(cache) << bad;
  }
  const auto third = rz::load_or_solve_labels(file, cache, 0, solver);
  CHECK_FALSE(third.from_cache);
  CHECK_THAT(third.note, Catch::Contains("checksum"));
  CHECK(rz::testing::read_file(cache) == written);
  // Truncated -> ignored and rebuilt.
  std::ofstream(cache) << written.substr(0, written.size() / 2);
  CHECK_FALSE(rz::load_or_solve_labels(file, cache, 0, solver).from_cache);
  CHECK(rz::testing::read_file(cache) == written);

  // Stale: the positions file changed -> the cache no longer applies.
  const auto extra = rz::read_position_file(kData + "Test_L3_R1", true)[40];
  std::ofstream(file, std::ios::app) << extra.moves << " " << *extra.score << "\n";
  const auto fourth = rz::load_or_solve_labels(file, cache, 0, solver);
  CHECK_FALSE(fourth.from_cache);
  CHECK_THAT(fourth.note, Catch::Contains("changed"));
  REQUIRE(fourth.positions.size() == 41);
  const auto& s = fourth.positions.back().scores;
  CHECK(*std::max_element(s.begin(), s.end()) == *extra.score);
  CHECK(rz::load_or_solve_labels(file, cache, 0, solver).from_cache);
}
