// BatchBuilder and the rate limiter, on real self-play records in a real replay window.
#include <catch2/catch.hpp>

#include <sys/mman.h>

#include <cmath>
#include <numeric>

#include "learner/batch_builder.h"
#include "learner/rate_limiter.h"
#include "learner/record_decode.h"
#include "learner/replay_window.h"
#include "tests/learner/process_harness.h"

using namespace rz;

namespace {

struct FilledWindow {
  explicit FilledWindow(const Game& game, int games) : bytes(1 << 20), mem(bytes) {
    window = std::make_unique<ReplayWindow>(mem.data(), bytes, 1000000, 1, 1);
    records = rz::testing::selfplay_records(game, games, 5);
    FinishedGame g;
    std::string error;
    for (size_t i = 0; i < records.size(); ++i) {
      REQUIRE(decode_record(game, records[i].data(), records[i].size(), &g, &error));
      window->insert(0, i, records[i].data(), static_cast<uint32_t>(records[i].size()),
                     static_cast<uint32_t>(g.positions.size()), target_positions(g));
    }
  }
  size_t bytes;
  std::vector<uint8_t> mem;
  std::unique_ptr<ReplayWindow> window;
  std::vector<std::vector<uint8_t>> records;
};

}  // namespace

TEST_CASE("batches hold normalised legal policies, mover outcomes and symmetric observations") {
  for (const char* spec : {"tictactoe", "connect4"}) {
    INFO(spec);
    auto game = make_game(spec);
    FilledWindow fw(*game, 20);
    const int na = game->num_actions(), obs = game->observation_shape().size();
    BatchBuilder builder(*game, 256);
    std::mt19937_64 rng(3);
    Batch b;
    builder.build(*fw.window, rng, &b);
    REQUIRE(b.size == 256);
    REQUIRE(b.observations.size() == static_cast<size_t>(256 * obs));
    int decisive = 0;
    for (int i = 0; i < b.size; ++i) {
      const float* pi = &b.policies[i * na];
      const float* legal = &b.legal[i * na];
      double sum = std::accumulate(pi, pi + na, 0.0);
      CHECK(std::abs(sum - 1.0) < 1e-5);
      int legal_count = 0;
      for (int a = 0; a < na; ++a) {
        if (pi[a] > 0) REQUIRE(legal[a] == 1.0f);  // targets only on legal moves
        legal_count += legal[a] == 1.0f;
      }
      CHECK(legal_count >= 1);
      CHECK((b.values[i] == 1.0f || b.values[i] == -1.0f || b.values[i] == 0.0f));
      decisive += b.values[i] != 0.0f;
      // Observations are planes of 0/1 for these games; symmetries only permute cells, so
      // the number of stones on the board (legal moves complement, tic-tac-toe) is kept.
      double stones = std::accumulate(&b.observations[i * obs], &b.observations[i * obs] + obs, 0.0);
      if (std::string(spec) == "tictactoe") CHECK(stones >= 9 - legal_count - 0.5);
    }
    CHECK(decisive > 0);
  }
}

TEST_CASE("samples-per-position limiter: min_replay gate, ratio, and 'behind' report") {
  SamplesPerInsertLimiter limiter(/*R=*/4, /*min_replay=*/100, /*batch=*/32);
  CHECK_FALSE(limiter.can_train(0, 99, 99));  // not enough data yet
  CHECK(limiter.can_train(0, 100, 100));
  CHECK(limiter.can_train(368, 100, 100));     // 400 samples allowed for 100 positions
  CHECK_FALSE(limiter.can_train(384, 100, 100));
  CHECK(limiter.samples_behind(0, 1000) == Approx(4000 - 32));
  CHECK(limiter.samples_behind(4000, 1000) == 0);
  SamplesPerInsertLimiter unlimited(0, 10, 32);
  CHECK(unlimited.can_train(1000000, 10, 10));
  CHECK_FALSE(unlimited.can_train(0, 10, 9));
}
