// SolverBatchBuilder: the supervised ceiling's samples, from solver labels (real solves of real
// positions: tests/data's early/middle set and its committed label cache).
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/eval/move_accuracy.h"
#include "learner/solver_batch.h"

using namespace rz;

namespace {

const std::string kSet = std::string(RZ_SOURCE_DIR) + "/tests/data/connect4_early_middle";

std::vector<LabelledPosition> committed_labels(int count) {
  Connect4Solver solver;
  // Read from the committed cache: no solving (load_or_solve_labels says so in .from_cache).
  auto load = load_or_solve_labels(kSet, kSet + ".labels", count, solver);
  REQUIRE(load.from_cache);
  return load.positions;
}

}  // namespace

TEST_CASE("solver batches: policy on the optimal columns, value the result, mirrored or not") {
  const auto game = make_game("connect4");
  const int na = game->num_actions();
  const int obs = game->observation_shape().size();
  for (const auto& p : committed_labels(40)) {
    const SolverBatchBuilder builder(*game, {p}, 64);
    Batch b;
    std::mt19937_64 rng(5);
    builder.build(rng, &b);
    REQUIRE(b.size == 64);
    std::vector<Action> history;
    const auto state = state_from_moves(*game, p.moves, &history);
    std::vector<float> plain(obs), mirrored;
    state->observe(plain.data());
    mirrored = plain;
    game->apply_symmetry(1, mirrored.data(), nullptr);
    if (mirrored == plain) continue;  // a left-right symmetric board: both orientations agree
    const int best = best_score(p.scores);
    std::set<bool> mirrored_seen;
    for (int i = 0; i < b.size; ++i) {
      const float* o = &b.observations[size_t(i) * obs];
      const bool same = std::equal(plain.begin(), plain.end(), o);
      REQUIRE((same || std::equal(mirrored.begin(), mirrored.end(), o)));
      // Connect Four's one other symmetry is the left-right mirror: column c <-> 6 - c.
      const auto column = [&](int a) { return same ? a : na - 1 - a; };
      mirrored_seen.insert(!same);
      float sum = 0;
      for (int a = 0; a < na; ++a) {
        const float pi = b.policies[size_t(i) * na + a];
        sum += pi;
        CHECK((pi > 0) == is_optimal(p.scores, column(a)));
        CHECK((b.legal[size_t(i) * na + a] == 1.0f) ==
              (p.scores[column(a)] != Connect4Solver::kInvalidColumn));
      }
      CHECK(sum == Approx(1.0f));
      CHECK(b.values[i] == float((best > 0) - (best < 0)));
    }
    CHECK(mirrored_seen.size() == 2);  // both orientations in 64 draws
  }
}

TEST_CASE("solver batches: labels that cannot be right are refused with the fix") {
  const auto game = make_game("connect4");
  auto labels = committed_labels(1);
  CHECK_THROWS_WITH(SolverBatchBuilder(*game, {}, 8), Catch::Contains("--train"));
  // A full column called optimal: column 1 after six stones in it.
  LabelledPosition full{1, "111111", {}};
  full.scores.fill(-1);
  full.scores[0] = 5;
  CHECK_THROWS_WITH(SolverBatchBuilder(*game, {full}, 8), Catch::Contains("label cache"));
  LabelledPosition bad = labels[0];
  bad.moves += "9";
  CHECK_THROWS_AS(SolverBatchBuilder(*game, {bad}, 8), GameError);
  CHECK_THROWS_WITH(SolverBatchBuilder(*make_game("tictactoe"), labels, 8),
                    Catch::Contains("--game connect4"));
}

TEST_CASE("solver batches: training positions that are test positions are dropped, mirrors too") {
  const auto game = make_game("connect4");
  const auto labels = committed_labels(20);
  std::vector<LabelledPosition> test(labels.begin(), labels.begin() + 5);
  std::vector<LabelledPosition> train(labels.begin() + 3, labels.end());  // shares 3 and 4
  // Test position 0 mirrored (column c <-> 8 - c, 1-based): other moves, the same stones.
  LabelledPosition mirror = test[0];
  for (char& c : mirror.moves) c = static_cast<char>('1' + '7' - c);
  train.push_back(mirror);
  const size_t before = train.size();
  CHECK(drop_positions_of(*game, test, &train) == 3);
  CHECK(train.size() == before - 3);
  for (const auto& p : train)
    for (const auto& t : test) CHECK(p.moves != t.moves);
  CHECK(drop_positions_of(*game, test, &train) == 0);
}
