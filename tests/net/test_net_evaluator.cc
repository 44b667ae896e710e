// NetEvaluator through its torch-free interface, the way actors use it, and MCTS driven by
// a fixed network: exact terminal values must let the search take an immediate win and
// block an immediate loss whatever the (untrained) network believes.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/game.h"
#include "common/mcts/mcts_config.h"
#include "common/mcts/mcts_player.h"
#include "common/net/net_evaluator.h"
#include "common/net/weight_blob.h"
#include "tests/support/game_play.h"

namespace rz {
namespace {

using test::EvalBatch;
using test::play;

// Non-terminal positions reached by random play (0-19 plies), the initial one included.
std::vector<std::unique_ptr<State>> random_positions(const Game& game, int count, uint64_t seed) {
  return test::random_positions(game, static_cast<size_t>(count), seed, 20, false);
}

// A Connect Four NetEvaluator (shape, max_batch, seed) and its answers for `count` positions
// of random play (positions_seed), evaluated as one call.
struct EvaluatedPositions {
  std::unique_ptr<Game> game = make_game("connect4");
  const int A = game->num_actions();
  NetEvaluator net;
  std::vector<std::unique_ptr<State>> states;
  EvalBatch batch;
  EvaluatedPositions(NetConfig shape, int max_batch, uint64_t seed, int count,
                     uint64_t positions_seed)
      : net(*game, shape, max_batch, 1, seed),
        states(random_positions(*game, count, positions_seed)),
        batch(states, A) {
    batch.run(net);
  }
};

TEST_CASE("NetEvaluator: policy is a distribution over the legal actions, value in [-1, 1]",
          "[net][evaluator]") {
  // max_batch 8 with 21 states: three chunks, the last one partial.
  EvaluatedPositions e(NetConfig{1, 16}, 8, /*seed=*/3, 21, 1);
  const auto& [game, A, net, states, batch] = e;
  CHECK(net.states_evaluated() == states.size());
  for (size_t i = 0; i < states.size(); ++i) {
    std::vector<uint8_t> legal(A);
    states[i]->legal_mask(legal.data());
    double sum = 0;
    for (int a = 0; a < A; ++a) {
      const float p = batch.policy[i * A + a];
      if (legal[a]) {
        CHECK(p > 0.0f);
        sum += p;
      } else {
        CHECK(p == 0.0f);
      }
    }
    CHECK(sum == Approx(1.0).margin(1e-5));
    CHECK(batch.value[i] >= -1.0f);
    CHECK(batch.value[i] <= 1.0f);
  }
}

TEST_CASE("NetEvaluator: a state gives the same result alone and inside a batch",
          "[net][evaluator]") {
  EvaluatedPositions e(NetConfig{2, 16}, 32, 4, 19, 2);
  auto& [game, A, net, states, all] = e;
  bool any_value_differs = false;
  for (size_t i = 0; i < states.size(); ++i) {
    EvalBatch alone({states[i].get()}, A);
    alone.run(net);
    for (int a = 0; a < A; ++a)
      CHECK(alone.policy[a] == Approx(all.policy[i * A + a]).margin(1e-4));
    CHECK(alone.value[0] == Approx(all.value[i]).margin(1e-4));
    any_value_differs |= std::fabs(all.value[i] - all.value[0]) > 1e-4;
  }
  CHECK(any_value_differs);  // the network does look at the board
}

TEST_CASE("NetEvaluator: load_blob makes two evaluators agree, a foreign blob is refused",
          "[net][evaluator][blob]") {
  auto game = make_game("connect4");
  NetEvaluator a(*game, NetConfig{1, 8}, 4, 1, 1);
  NetEvaluator b(*game, NetConfig{1, 8}, 4, 1, 2);
  auto states = random_positions(*game, 4, 3);
  const int A = game->num_actions();
  EvalBatch from_a(states, A), from_b(states, A);
  from_a.run(a);
  from_b.run(b);
  REQUIRE(from_a.policy != from_b.policy);
  CHECK(a.layout_tag() == b.layout_tag());

  b.load_blob(a.blob());
  from_b.run(b);
  CHECK(from_a.policy == from_b.policy);
  CHECK(from_a.value == from_b.value);

  auto ttt = make_game("tictactoe");
  NetEvaluator other(*ttt, NetConfig{1, 8}, 4, 1, 1);
  CHECK_THROWS_WITH(b.load_blob(other.blob()),
                    "weights are for tictactoe 1x8 but this network is connect4 1x8: use a "
                    "checkpoint of the same game and network shape");
  CHECK_THROWS_AS(b.load_blob(other.blob()), WeightBlobError);
  from_b.run(b);
  CHECK(from_a.policy == from_b.policy);  // unchanged by the refused blob
}

TEST_CASE("NetEvaluator: non-finite weights give a uniform prior and value 0, and are counted",
          "[net][evaluator]") {
  EvaluatedPositions e(NetConfig{1, 8}, 4, 1, 3, 5);
  auto& [game, A, net, states, batch] = e;
  CHECK(net.non_finite_outputs() == 0);

  // A diverged learner's blob: a valid blob (header, checksum) whose weights are NaN.
  std::vector<uint8_t> blob = net.blob();
  const WeightBlobHeader h = parse_weight_blob_header(blob.data(), blob.size());
  const BlobTensor& stem = h.tensors.front();
  REQUIRE(stem.dtype == BlobDType::kFloat32);
  const float nan = std::nanf("");
  for (uint64_t off = 0; off < stem.bytes; off += 4)
    std::memcpy(blob.data() + stem.offset + off, &nan, 4);
  const uint64_t sum = blob_checksum(blob.data() + h.payload_offset, h.payload_bytes);
  std::memcpy(blob.data() + 32, &sum, 8);  // checksum field, see weight_blob.h
  net.load_blob(blob);

  batch.run(net);
  CHECK(net.non_finite_outputs() == 3);
  for (int i = 0; i < 3; ++i) {
    std::vector<uint8_t> legal(A);
    states[i]->legal_mask(legal.data());
    int count = 0;
    for (int a = 0; a < A; ++a) count += legal[a];
    for (int a = 0; a < A; ++a)
      CHECK(batch.policy[i * A + a] == Approx(legal[a] ? 1.0f / count : 0.0f));
    CHECK(batch.value[i] == 0.0f);
  }
}

TEST_CASE("NetEvaluator: bad construction arguments are refused", "[net][evaluator]") {
  auto game = make_game("connect4");
  CHECK_THROWS_AS(NetEvaluator(*game, NetConfig{1, 8}, 0), std::invalid_argument);
  CHECK_THROWS_AS(NetEvaluator(*game, NetConfig{-1, 8}, 4), std::invalid_argument);
  CHECK_THROWS_AS(NetEvaluator(*game, NetConfig{1, 0}, 4), std::invalid_argument);
}

// Connect Four positions (columns 0..6) where the player to move has exactly one right move.
struct Tactic {
  const char* what;
  std::vector<Action> moves;
  Action answer;
};

const std::vector<Tactic> kTactics = {
    // X: 0,1,2 on the bottom row, O above them: X completes the row (O threatens too).
    {"win: bottom row", {0, 0, 1, 1, 2, 2}, 3},
    // X: three in column 0, O three in column 1: X wins first.
    {"win: column", {0, 1, 0, 1, 0, 1}, 0},
    // X: diagonal 0..2 built up, the fourth stone lands on column 3's fourth row.
    {"win: diagonal", {0, 1, 1, 2, 2, 3, 2, 3, 3, 6}, 3},
    // O to move; X threatens the bottom row at column 3 (column -1 does not exist).
    {"block: bottom row", {0, 6, 1, 6, 2}, 3},
    // O to move; X has three in column 3.
    {"block: column", {3, 0, 3, 1, 3}, 3},
    // O to move; X holds columns 2-4 of the second row; column 1's second cell is not
    // playable yet, so only column 5 stops it.
    {"block: second row", {3, 2, 5, 4, 2, 6, 3, 6, 4}, 5},
};

// The moves that win at once if any exist; otherwise the moves after which the opponent
// cannot win at once.
std::vector<Action> right_moves(const State& s) {
  std::vector<Action> wins, safe;
  for (Action a : s.legal_actions()) {
    auto t = s.clone();
    t->apply(a);
    if (t->is_terminal() && t->returns(s.current_player()) > 0) wins.push_back(a);
    bool opponent_wins = false;
    for (Action b : t->legal_actions()) {
      auto u = t->clone();
      u->apply(b);
      opponent_wins |= u->is_terminal() && u->returns(t->current_player()) > 0;
    }
    if (!opponent_wins) safe.push_back(a);
  }
  return wins.empty() ? safe : wins;
}

TEST_CASE("MCTS with a fixed network takes immediate wins and blocks immediate losses",
          "[net][mcts]") {
  auto game = make_game("connect4");
  NetEvaluator net(*game, NetConfig{1, 16}, 16, 1, /*seed=*/7);
  MctsConfig config;
  config.simulations = 400;
  config.dirichlet_epsilon = 0.0f;
  config.virtual_leaves = 8;
  MctsPlayer player(*game, net, config, 1);
  for (const auto& t : kTactics) {
    auto s = play(*game, t.moves);
    INFO(t.what << "\n" << s->to_string());
    REQUIRE_FALSE(s->is_terminal());
    // The tactic is real: the answer is the only right move.
    CHECK(right_moves(*s) == std::vector<Action>{t.answer});
    CHECK(player.choose(*s) == t.answer);
  }
  CHECK(net.calls() > 0);
}

}  // namespace
}  // namespace rz
