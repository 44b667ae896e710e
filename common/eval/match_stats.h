// The statistics of a match: score with a 95% confidence interval, and the Elo difference it
// implies.
//
// score = (wins + draws / 2) / games. The interval is Wilson's score interval for a binomial
// proportion applied to the score; with draws the true variance is smaller than p(1 - p), so
// the interval is slightly conservative. Elo difference = -400 log10(1 / score - 1); its
// interval maps the score interval's ends through the same (monotone) formula. A score of 0
// or 1 gives an infinite Elo difference (reported as such: the match cannot bound it).
#pragma once

#include <string>

namespace rz {

struct MatchStats {
  int wins = 0, draws = 0, losses = 0;
  double score = 0, score_low = 0, score_high = 0;
  double elo = 0, elo_low = 0, elo_high = 0;
  int games() const { return wins + draws + losses; }
};

// z = 1.959964 is the two-sided 95% normal quantile. Requires at least one game.
MatchStats match_stats(int wins, int draws, int losses, double z = 1.959964);

// Elo difference of a score in [0, 1] (+-infinity at the ends).
double elo_from_score(double score);

// "+147 [+75, +226]", "+inf [+190, +inf]".
std::string format_elo(double elo);

}  // namespace rz
