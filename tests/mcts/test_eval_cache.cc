// CachingEvaluator in front of the real RolloutEvaluator, whose values are random playouts:
// a second evaluation of a position almost never repeats the first value, so a value that
// comes back bit for bit, with the inner evaluator's count unchanged, is a cache answer.
#include <catch2/catch.hpp>

#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "common/game.h"
#include "common/mcts/eval_cache.h"
#include "common/mcts/rollout_evaluator.h"
#include "tests/support/game_play.h"

namespace rz {
namespace {

using Batch = test::EvalBatch;
using test::pointers;

// `count` distinct non-terminal positions from random play (fixed seed), 0-29 plies deep.
std::vector<std::unique_ptr<State>> distinct_positions(const Game& game, size_t count,
                                                       uint64_t seed) {
  return test::random_positions(game, count, seed, 30, true);
}

// A Connect Four rollout evaluator (seeded) behind a cache of `capacity` bytes.
struct CachedRollouts {
  std::unique_ptr<Game> game = make_game("connect4");
  RolloutEvaluator rollout;
  CachingEvaluator cache;
  CachedRollouts(uint64_t seed, size_t capacity)
      : rollout(*game, seed), cache(*game, rollout, capacity) {}
  // `states` evaluated through the cache.
  Batch cached(const std::vector<std::unique_ptr<State>>& states) {
    Batch b(states, game->num_actions());
    b.run(cache);
    return b;
  }
};

}  // namespace

TEST_CASE("eval cache: a repeated position is answered from the table, bit for bit",
          "[eval_cache]") {
  CachedRollouts c(7, 1 << 20);
  const auto positions = distinct_positions(*c.game, 64, 1);
  const Batch first = c.cached(positions);
  CHECK(c.rollout.states_evaluated() == 64);
  CHECK(c.cache.hits() == 0);
  CHECK(c.cache.evaluated() == 64);

  const Batch second = c.cached(positions);
  CHECK(c.rollout.states_evaluated() == 64);  // nothing new reached the evaluator
  CHECK(c.cache.hits() == 64);
  CHECK(c.cache.lookups() == 128);
  CHECK(c.cache.hit_rate() == Approx(0.5));
  CHECK(std::memcmp(first.policy.data(), second.policy.data(), first.policy.size() * 4) == 0);
  CHECK(std::memcmp(first.value.data(), second.value.data(), first.value.size() * 4) == 0);

  // The same positions evaluated afresh give other (random-playout) values: the identical
  // answers above really came from the table.
  Batch fresh(positions, c.game->num_actions());
  fresh.run(c.rollout);
  CHECK(std::memcmp(first.value.data(), fresh.value.data(), first.value.size() * 4) != 0);
}

TEST_CASE("eval cache: duplicate leaves in one batch are evaluated once", "[eval_cache]") {
  auto game = make_game("connect4");
  const auto positions = distinct_positions(*game, 3, 2);
  for (size_t capacity : {size_t{0}, size_t{1} << 20}) {
    RolloutEvaluator rollout(*game, 8);
    CachingEvaluator cache(*game, rollout, capacity);
    // A, B, A, C, A, B: three distinct positions.
    std::vector<const State*> batch = {positions[0].get(), positions[1].get(), positions[0].get(),
                                       positions[2].get(), positions[0].get(), positions[1].get()};
    Batch b(batch, game->num_actions());
    b.run(cache);
    CHECK(rollout.states_evaluated() == 3);
    CHECK(rollout.calls() == 1);
    CHECK(cache.batch_duplicates() == 3);
    CHECK(cache.saved() == 3);
    const size_t a = game->num_actions();
    for (auto [i, j] : {std::pair<size_t, size_t>{0, 2}, {0, 4}, {1, 5}}) {
      CHECK(b.value[i] == b.value[j]);
      CHECK(std::memcmp(&b.policy[i * a], &b.policy[j * a], a * 4) == 0);
    }
    // A copy of a position (another State object) is the same position.
    auto copy = positions[2]->clone();
    std::vector<const State*> again = {copy.get()};
    Batch c(again, game->num_actions());
    c.run(cache);
    CHECK(rollout.states_evaluated() == (capacity ? 3u : 4u));
  }
}

TEST_CASE("eval cache: new weights invalidate every entry", "[eval_cache]") {
  CachedRollouts c(9, 1 << 20);
  const auto positions = distinct_positions(*c.game, 32, 3);
  Batch b = c.cached(positions);
  b.run(c.cache);
  CHECK(c.rollout.states_evaluated() == 32);
  c.cache.invalidate();
  Batch after = c.cached(positions);
  CHECK(c.rollout.states_evaluated() == 64);  // all evaluated again under the new weights
  CHECK(c.cache.hits() == 32);
  CHECK(std::memcmp(b.value.data(), after.value.data(), b.value.size() * 4) != 0);
  after.run(c.cache);  // and cached again for the new version
  CHECK(c.rollout.states_evaluated() == 64);
}

TEST_CASE("eval cache: memory stays within the budget however many positions pass",
          "[eval_cache]") {
  auto game = make_game("connect4");
  RolloutEvaluator rollout(*game, 10);
  const size_t budget = 64 << 10;
  CachingEvaluator cache(*game, rollout, budget);
  const size_t entries = budget / CachingEvaluator::entry_bytes(game->num_actions());
  CHECK(cache.capacity_entries() == entries);
  const size_t held = cache.table_bytes();
  CHECK(held <= budget);
  CHECK(held >= budget * 9 / 10);

  const auto positions = distinct_positions(*game, 6000, 4);  // ~4x the table's entries
  const auto all = pointers(positions);
  for (size_t start = 0; start < all.size(); start += 500) {
    std::vector<const State*> chunk(all.begin() + start,
                                    all.begin() + std::min(all.size(), start + 500));
    Batch b(chunk, game->num_actions());
    b.run(cache);
    // Every answer is a valid evaluation of its own position.
    std::vector<uint8_t> legal(game->num_actions());
    for (size_t i = 0; i < chunk.size(); ++i) {
      chunk[i]->legal_mask(legal.data());
      float sum = 0;
      for (int a = 0; a < game->num_actions(); ++a) {
        if (!legal[a]) CHECK(b.policy[i * game->num_actions() + a] == 0.0f);
        sum += b.policy[i * game->num_actions() + a];
      }
      CHECK(sum == Approx(1.0f));
    }
  }
  CHECK(cache.table_bytes() == held);
  // Replaying all of them: the table cannot hold 6000 positions, so most come back as misses.
  Batch again(all, game->num_actions());
  again.run(cache);
  CHECK(cache.hits() <= entries);
  CHECK(cache.lookups() == cache.hits() + cache.batch_duplicates() + cache.evaluated());
  CHECK(rollout.states_evaluated() == cache.evaluated());
}

}  // namespace rz
