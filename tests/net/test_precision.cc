// The reduced-precision accuracy guard (issue #14): on a fixed set of Connect Four positions
// the bf16 network's policy argmax agrees with fp32 on >= 98% of positions, where it differs
// it picks a move fp32 rates within 0.05 of its best (a near-tie, not a different opinion),
// and its value differs by < 0.02 on average; for the committed trained network of
// docs/results.md and for a freshly initialised one. Both evaluators are real NetEvaluators
// over the same weights. Why the regret bound beside the agreement: a sharper trained
// network has a few positions whose two best moves are within bf16's rounding (the committed
// 60-minute models of 2026-12-06 flip 10 and 18 of 2000, all near-ties: regret <= 0.03);
// counting only flips would make the guard depend on how many ties a model happens to have,
// and on the CPU's bf16 kernels.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "common/eval/network_file.h"
#include "common/game.h"
#include "common/net/net_evaluator.h"
#include "tests/support/game_play.h"

namespace rz {
namespace {

// 2000 distinct non-terminal positions from seeded random play, 0-35 plies deep.
std::vector<std::unique_ptr<State>> position_set(const Game& game) {
  return test::random_positions(game, 2000, 20261206, 36, true);
}

struct Agreement {
  double argmax_agreement = 0, mean_value_diff = 0, max_policy_diff = 0;
  // The largest fp32 probability given up by playing bf16's argmax instead of fp32's.
  double max_regret = 0;
};

Agreement compare(const Game& game, NetEvaluator& fp32, NetEvaluator& bf16) {
  const auto positions = position_set(game);
  const int a = game.num_actions(), batch = 128;
  std::vector<float> p32(size_t(batch) * a), p16(size_t(batch) * a), v32(batch), v16(batch);
  size_t agree = 0;
  double value_diff = 0, max_p = 0, max_regret = 0;
  for (size_t start = 0; start < positions.size(); start += batch) {
    std::vector<const State*> states;
    for (size_t i = start; i < std::min(positions.size(), start + batch); ++i)
      states.push_back(positions[i].get());
    const int n = static_cast<int>(states.size());
    fp32.evaluate(states.data(), n, p32.data(), v32.data());
    bf16.evaluate(states.data(), n, p16.data(), v16.data());
    for (int i = 0; i < n; ++i) {
      const float* x = &p32[size_t(i) * a];
      const float* y = &p16[size_t(i) * a];
      const float* best32 = std::max_element(x, x + a);
      const ptrdiff_t best16 = std::max_element(y, y + a) - y;
      agree += best32 - x == best16;
      max_regret = std::max(max_regret, double(*best32 - x[best16]));
      value_diff += std::fabs(v32[i] - v16[i]);
      for (int k = 0; k < a; ++k) max_p = std::max(max_p, double(std::fabs(x[k] - y[k])));
    }
  }
  return {double(agree) / positions.size(), value_diff / positions.size(), max_p, max_regret};
}

void check_guard(const Game& game, const NetConfig& config, const std::vector<uint8_t>& blob,
                 const char* what) {
  NetEvaluator fp32(game, config, 128, 1, 1);
  NetEvaluator bf16(game, config, 128, 1, 1);
  bf16.set_precision(Precision::kBf16);  // before the load: load_blob must reach the bf16 copy
  REQUIRE(bf16.precision() == Precision::kBf16);
  if (!blob.empty()) {
    fp32.load_blob(blob);
    bf16.load_blob(blob);
  }
  const Agreement r = compare(game, fp32, bf16);
  std::printf(
      "%s: bf16 vs fp32 on 2000 positions: argmax agreement %.4f, mean |value diff| %.5f, "
      "max |policy diff| %.4f, max regret %.4f\n",
      what, r.argmax_agreement, r.mean_value_diff, r.max_policy_diff, r.max_regret);
  CHECK(r.argmax_agreement >= 0.98);
  CHECK(r.max_regret < 0.05);
  CHECK(r.mean_value_diff < 0.02);
  CHECK(r.mean_value_diff > 0.0);  // bf16 really ran: it rounds differently from fp32
}

}  // namespace

TEST_CASE("precision: bf16 keeps the trained network's argmax and value (accuracy guard)",
          "[net][precision]") {
  const NetworkFile file = read_network_file(RZ_SOURCE_DIR "/docs/models/connect4-60min.rzck");
  auto game = make_game(file.header.game_spec);
  check_guard(*game, file.header.config, file.blob, "trained connect4 network");
}

TEST_CASE("precision: bf16 keeps a freshly initialised network's argmax and value",
          "[net][precision]") {
  auto game = make_game("connect4");
  check_guard(*game, NetConfig{4, 64}, {}, "initial 4x64 network");
}

TEST_CASE("precision: switching back to fp32 gives fp32's exact outputs", "[net][precision]") {
  auto game = make_game("connect4");
  NetEvaluator a(*game, NetConfig{2, 32}, 16, 1, 3), b(*game, NetConfig{2, 32}, 16, 1, 3);
  b.set_precision(Precision::kBf16);
  b.set_precision(Precision::kFp32);
  auto s = game->new_initial_state();
  const State* states[] = {s.get()};
  std::vector<float> pa(7), pb(7);
  float va = 0, vb = 0;
  a.evaluate(states, 1, pa.data(), &va);
  b.evaluate(states, 1, pb.data(), &vb);
  CHECK(pa == pb);
  CHECK(va == vb);
  CHECK(std::string(precision_name(b.precision())) == "fp32");
}

}  // namespace rz
