// Match statistics checked against values computed by hand (Wilson interval, Elo formula).
#include <catch2/catch.hpp>

#include <cmath>

#include "common/eval/match_stats.h"

TEST_CASE("match stats: 60 wins, 20 draws, 20 losses") {
  // p = 0.7; Wilson with z = 1.96, n = 100:
  //   centre = (0.7 + 1.9208/100) / 1.038415 = 0.69261, half = 1.96 * sqrt(0.0021 + 0.000096)
  //   / 1.038415 = 0.08845 -> [0.60415, 0.78105]; Elo = -400 log10(1/0.7 - 1) = +147.19,
  //   interval [+73.4, +220.9].
  const auto s = rz::match_stats(60, 20, 20);
  CHECK(s.games() == 100);
  CHECK(s.score == Approx(0.7));
  CHECK(s.score_low == Approx(0.60415).margin(1e-4));
  CHECK(s.score_high == Approx(0.78105).margin(1e-4));
  CHECK(s.elo == Approx(147.19).margin(0.01));
  CHECK(s.elo_low == Approx(73.45).margin(0.05));
  CHECK(s.elo_high == Approx(220.93).margin(0.05));
}

TEST_CASE("match stats: an even match is centred on 0 Elo, symmetric") {
  const auto s = rz::match_stats(5, 10, 5);
  CHECK(s.score == Approx(0.5));
  CHECK(s.elo == Approx(0.0).margin(1e-9));
  CHECK(s.score_low == Approx(1.0 - s.score_high));
  CHECK(s.elo_low == Approx(-s.elo_high));
}

TEST_CASE("match stats: a clean sweep has an infinite Elo but a finite lower bound") {
  // 10-0-0: centre = (1 + 0.19208) / 1.38415 = 0.86124, half = 1.96 * 0.098 / 1.38415 =
  // 0.13877 -> low 0.72247, Elo low = -400 log10(1/0.72247 - 1) = +166.2.
  const auto s = rz::match_stats(10, 0, 0);
  CHECK(std::isinf(s.elo));
  CHECK(s.elo > 0);
  CHECK(s.score_high == 1.0);
  CHECK(std::isinf(s.elo_high));
  CHECK(s.score_low == Approx(0.72247).margin(1e-4));
  CHECK(s.elo_low == Approx(166.2).margin(0.2));
  CHECK(rz::format_elo(s.elo) == "+inf");
  CHECK(rz::format_elo(-147.19) == "-147");
  CHECK_THROWS(rz::match_stats(0, 0, 0));
}
