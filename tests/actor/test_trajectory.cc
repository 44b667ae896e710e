// Trajectory records: exact round trip of real self-play games (SelfPlayDriver with the
// rollout evaluator) for every game, and corruption: every single-byte flip and every
// truncation must be rejected with a TrajectoryError or decode to a valid trajectory —
// never crash. "Forged" variants recompute the checksum so that the semantic checks
// (legality by replay, outcome, versions, flags) are exercised rather than the checksum.
#include <catch2/catch.hpp>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/game.h"
#include "common/mcts/rollout_evaluator.h"
#include "common/mcts/selfplay.h"
#include "common/trajectory.h"

namespace {

struct Played {
  std::vector<rz::FinishedGame> games;
  bool any_resigned = false, any_disabled = false, any_versions_span = false;
};

// Plays at least `count` games of real self-play, changing the weight version every few
// rounds so that games straddle versions like they do in a run.
Played play(const rz::Game& game, int count, uint64_t seed, bool resign) {
  rz::RolloutEvaluator evaluator(game, seed);
  rz::MctsConfig config;
  config.simulations = 12;
  config.virtual_leaves = 4;
  config.temperature_moves = 4;
  config.dirichlet_alpha = 1.0f;
  config.full_search_prob = 0.75f;
  config.fast_simulations = 4;
  config.random_opening_moves = 3;  // unsearched moves with one visit travel too
  if (resign) {
    config.resign_threshold = -0.3f;
    config.resign_disabled_fraction = 0.5f;
  }
  rz::SelfPlayDriver driver(game, evaluator, config, 6, seed);
  Played out;
  uint64_t version = 7;
  for (int round = 0; static_cast<int>(out.games.size()) < count && round < 100000; ++round) {
    if (round % 5 == 0) driver.set_weight_version(version++);
    driver.run_round(&out.games);
  }
  for (const auto& g : out.games) {
    out.any_resigned |= g.resigned;
    out.any_disabled |= g.resign_disabled;
    if (!g.positions.empty())
      out.any_versions_span |=
          g.positions.front().weight_version != g.positions.back().weight_version;
  }
  return out;
}

uint32_t fnv1a32(const uint8_t* p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

// Rewrites the trailing checksum so that only the semantic checks can reject the record.
void forge_checksum(std::vector<uint8_t>* rec) {
  if (rec->size() < 4) return;
  const uint32_t h = fnv1a32(rec->data(), rec->size() - 4);
  for (int i = 0; i < 4; ++i) (*rec)[rec->size() - 4 + i] = static_cast<uint8_t>(h >> (8 * i));
}

void check_equal(const rz::FinishedGame& a, const rz::FinishedGame& b) {
  REQUIRE(a.positions.size() == b.positions.size());
  CHECK(a.returns[0] == b.returns[0]);
  CHECK(a.returns[1] == b.returns[1]);
  CHECK(a.resigned == b.resigned);
  CHECK(a.resign_disabled == b.resign_disabled);
  CHECK(a.would_have_resigned_wrongly == b.would_have_resigned_wrongly);
  for (size_t i = 0; i < a.positions.size(); ++i) {
    const auto& p = a.positions[i];
    const auto& q = b.positions[i];
    CHECK(p.action == q.action);
    CHECK(p.player == q.player);
    CHECK(p.full_search == q.full_search);
    CHECK(p.weight_version == q.weight_version);
    CHECK(std::abs(p.root_value - q.root_value) <= 0.5f / 32767.0f + 1e-7f);
    auto sorted = p.visits;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == q.visits);
  }
}

// Decodes; on success the result must itself re-encode and decode (it is a valid game).
// Returns true if it decoded.
bool decode_or_reject(const std::vector<uint8_t>& rec, const rz::Game& game) {
  rz::DecodedTrajectory d;
  try {
    d = rz::decode_trajectory(rec.data(), rec.size(), game);
  } catch (const rz::TrajectoryError& e) {
    const std::string msg = e.what();
    CHECK(!msg.empty());
    CHECK(msg.find('\n') == std::string::npos);
    return false;
  }
  std::vector<uint8_t> again;
  rz::encode_trajectory(d.game, d.origin, &again);
  const auto d2 = rz::decode_trajectory(again.data(), again.size(), game);
  check_equal(d.game, d2.game);
  return true;
}

}  // namespace

TEST_CASE("trajectory: real self-play games round-trip exactly, all games") {
  for (const std::string spec : {"tictactoe", "connect4", "dotsandboxes:rows=2,cols=2"}) {
    INFO(spec);
    const auto game = rz::make_game(spec);
    const Played played = play(*game, 24, 42, /*resign=*/true);
    CHECK(played.any_resigned);
    CHECK(played.any_disabled);
    CHECK(played.any_versions_span);
    std::vector<uint8_t> rec;
    uint64_t id = 0;
    for (const auto& g : played.games) {
      rz::TrajectoryOrigin origin{rz::game_spec_hash(game->spec()), 3, id++};
      rz::encode_trajectory(g, origin, &rec);
      const auto d = rz::decode_trajectory(rec.data(), rec.size(), *game);
      CHECK(d.origin.actor_slot == 3);
      CHECK(d.origin.game_id == origin.game_id);
      CHECK(d.origin.game_spec_hash == origin.game_spec_hash);
      check_equal(g, d.game);
      if (!g.positions.empty()) {
        CHECK(d.min_weight_version <= g.positions.front().weight_version);
        CHECK(d.max_weight_version >= g.positions.back().weight_version);
      }
    }
  }
}

TEST_CASE("trajectory: records of another game or format are refused by name") {
  const auto ttt = rz::make_game("tictactoe");
  const auto c4 = rz::make_game("connect4");
  const Played played = play(*ttt, 1, 7, false);
  std::vector<uint8_t> rec;
  rz::encode_trajectory(played.games[0], {rz::game_spec_hash(ttt->spec()), 0, 0}, &rec);
  CHECK_THROWS_WITH(rz::decode_trajectory(rec.data(), rec.size(), *c4),
                    Catch::Contains("another game"));
  auto v2 = rec;
  v2[4] = 2;  // version field
  forge_checksum(&v2);
  CHECK_THROWS_WITH(rz::decode_trajectory(v2.data(), v2.size(), *ttt),
                    Catch::Contains("version 2 is not supported"));
  auto flipped = rec;
  flipped[20] ^= 1;
  CHECK_THROWS_WITH(rz::decode_trajectory(flipped.data(), flipped.size(), *ttt),
                    Catch::Contains("checksum"));
  CHECK_THROWS_AS(rz::decode_trajectory(nullptr, 0, *ttt), rz::TrajectoryError);
}

TEST_CASE("trajectory: semantic corruption is caught by replay") {
  const auto game = rz::make_game("tictactoe");
  const uint64_t hash = rz::game_spec_hash(game->spec());
  Played played = play(*game, 8, 11, false);
  const rz::FinishedGame base = played.games[0];
  REQUIRE(base.positions.size() >= 5);

  auto expect = [&](rz::FinishedGame g, const char* reason) {
    std::vector<uint8_t> rec;
    rz::encode_trajectory(g, {hash, 0, 0}, &rec);
    INFO(reason);
    CHECK_THROWS_WITH(rz::decode_trajectory(rec.data(), rec.size(), *game),
                      Catch::Contains(reason));
  };
  {
    auto g = base;  // replay an occupied square
    g.positions[2].action = g.positions[0].action;
    for (auto& v : g.positions[2].visits) v.first = g.positions[2].action;
    g.positions[2].visits.resize(1);
    expect(g, "is illegal");
  }
  {
    auto g = base;
    g.positions[1].player ^= 1;
    expect(g, "recorded mover");
  }
  {
    auto g = base;
    g.returns[0] = -g.returns[0] + (g.returns[0] == 0 ? 1.0f : 0.0f);
    expect(g, "final position gives");
  }
  {
    auto g = base;
    g.positions.pop_back();
    expect(g, "before a terminal state");
  }
  {
    auto g = base;
    g.positions[0].visits = {{g.positions[0].action == 0 ? 1 : 0, 5}};
    expect(g, "has no visits");
  }
  {
    auto g = base;
    g.resigned = true;  // a terminal game cannot have been resigned
    expect(g, "resigned game ends in a terminal state");
  }
  {
    auto g = base;
    g.would_have_resigned_wrongly = true;
    expect(g, "resignation enabled");
  }
  {
    auto g = base;
    g.returns[1] = 1.5f;
    expect(g, "outside [-1, 1]");
  }
}

TEST_CASE("trajectory: every byte flip and truncation is rejected or decodes validly") {
  // Under -fsanitize=address this is the memory-safety test of the decoder.
  for (const std::string spec : {"tictactoe", "connect4", "dotsandboxes:rows=2,cols=2"}) {
    INFO(spec);
    const auto game = rz::make_game(spec);
    const uint64_t hash = rz::game_spec_hash(game->spec());
    const Played played = play(*game, 3, 99, true);
    int records = 0;
    for (const auto& g : played.games) {
      if (records++ == 3) break;
      std::vector<uint8_t> rec;
      rz::encode_trajectory(g, {hash, 1, 2}, &rec);
      size_t rejected_plain = 0, decoded_forged = 0, cases = 0;
      for (size_t i = 0; i < rec.size(); ++i) {
        for (uint8_t mask : {0x01, 0x10, 0x80, 0xff}) {
          auto bad = rec;
          bad[i] ^= mask;
          rejected_plain += !decode_or_reject(bad, *game);  // the checksum catches it
          forge_checksum(&bad);
          decoded_forged += decode_or_reject(bad, *game);
          ++cases;
        }
      }
      CHECK(rejected_plain == cases);
      // Some forged flips are harmless (a root value, the game id, the slot); most are not.
      CHECK(decoded_forged < cases);
      for (size_t len = 0; len < rec.size(); ++len) {
        std::vector<uint8_t> cut(rec.begin(), rec.begin() + static_cast<long>(len));
        CHECK_FALSE(decode_or_reject(cut, *game));
        forge_checksum(&cut);
        CHECK_FALSE(decode_or_reject(cut, *game));
      }
      // Trailing garbage is refused too.
      auto longer = rec;
      longer.insert(longer.end() - 4, uint8_t{0});
      forge_checksum(&longer);
      CHECK_FALSE(decode_or_reject(longer, *game));
    }
  }
}

TEST_CASE("trajectory: records are compact") {
  const auto game = rz::make_game("connect4");
  const Played played = play(*game, 6, 5, false);
  std::vector<uint8_t> rec;
  size_t bytes = 0, positions = 0;
  for (const auto& g : played.games) {
    rz::encode_trajectory(g, {rz::game_spec_hash(game->spec()), 0, 0}, &rec);
    bytes += rec.size();
    positions += g.positions.size();
  }
  // 7 legal moves at most: <= 8 bytes per position plus <= 4 per visited child, + header.
  CHECK(bytes <= played.games.size() * 60 + positions * (8 + 7 * 4));
  WARN("connect4: " << bytes / played.games.size() << " bytes per game, "
                    << double(bytes) / positions << " per position");
}

TEST_CASE("trajectory: absurd counts are refused before any allocation") {
  const auto game = rz::make_game("connect4");
  const Played played = play(*game, 1, 3, false);
  std::vector<uint8_t> rec;
  rz::encode_trajectory(played.games[0], {rz::game_spec_hash(game->spec()), 0, 0}, &rec);
  // The position count is the varint right after the 52-byte fixed header.
  const size_t at = 52;
  size_t old_len = 1;
  while (rec[at + old_len - 1] & 0x80) ++old_len;
  std::vector<uint8_t> huge = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  std::vector<uint8_t> bad(rec.begin(), rec.begin() + at);
  bad.insert(bad.end(), huge.begin(), huge.end());
  bad.insert(bad.end(), rec.begin() + at + static_cast<long>(old_len), rec.end());
  forge_checksum(&bad);
  CHECK_THROWS_WITH(rz::decode_trajectory(bad.data(), bad.size(), *game),
                    Catch::Contains("exceed the game's maximum length"));
  // An 11-byte varint is malformed, not a wrap-around.
  huge.back() = 0x81;
  huge.push_back(0x01);
  bad.assign(rec.begin(), rec.begin() + at);
  bad.insert(bad.end(), huge.begin(), huge.end());
  bad.insert(bad.end(), rec.begin() + at + static_cast<long>(old_len), rec.end());
  forge_checksum(&bad);
  CHECK_THROWS_WITH(rz::decode_trajectory(bad.data(), bad.size(), *game),
                    Catch::Contains("malformed varint"));
}

TEST_CASE("trajectory: random multi-byte damage never crashes the decoder") {
  std::mt19937_64 rng(2024);
  for (const std::string spec : {"tictactoe", "connect4", "dotsandboxes:rows=2,cols=2"}) {
    INFO(spec);
    const auto game = rz::make_game(spec);
    const Played played = play(*game, 4, 17, true);
    std::vector<uint8_t> rec;
    int decoded = 0, rejected = 0;
    for (int trial = 0; trial < 3000; ++trial) {
      const auto& g = played.games[static_cast<size_t>(trial) % played.games.size()];
      rz::encode_trajectory(g, {rz::game_spec_hash(game->spec()), 0, 0}, &rec);
      const int flips = 1 + static_cast<int>(rng() % 6);
      for (int f = 0; f < flips; ++f) rec[rng() % (rec.size() - 4)] = static_cast<uint8_t>(rng());
      forge_checksum(&rec);
      (decode_or_reject(rec, *game) ? decoded : rejected)++;
    }
    CHECK(rejected > 0);
    WARN(spec << ": " << rejected << " damaged records rejected, " << decoded
              << " still decoded as valid games");
  }
}
