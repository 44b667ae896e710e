#include "common/eval/match_stats.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace rz {

double elo_from_score(double score) {
  if (score <= 0) return -std::numeric_limits<double>::infinity();
  if (score >= 1) return std::numeric_limits<double>::infinity();
  return 0.0 - 400.0 * std::log10(1.0 / score - 1.0);  // 0 - x: an even score is +0, not -0
}

MatchStats match_stats(int wins, int draws, int losses, double z) {
  if (wins < 0 || draws < 0 || losses < 0 || wins + draws + losses == 0)
    throw std::invalid_argument("match_stats needs at least one game and no negative count");
  MatchStats s;
  s.wins = wins;
  s.draws = draws;
  s.losses = losses;
  const double n = s.games();
  const double p = (wins + 0.5 * draws) / n;
  s.score = p;
  // Wilson: (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n).
  const double z2 = z * z;
  const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
  // At p = 0 or 1 the interval ends exactly at 0 or 1; rounding must not turn an infinite
  // Elo bound into a huge finite one.
  s.score_low = wins + draws == 0 ? 0.0 : std::max(0.0, centre - half);
  s.score_high = draws + losses == 0 ? 1.0 : std::min(1.0, centre + half);
  s.elo = elo_from_score(p);
  s.elo_low = elo_from_score(s.score_low);
  s.elo_high = elo_from_score(s.score_high);
  return s;
}

std::string format_elo(double elo) {
  if (std::isinf(elo)) return elo > 0 ? "+inf" : "-inf";
  return fmt::format("{:+.0f}", elo);
}

}  // namespace rz
