#include "common/run_schedule.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "common/text_parse.h"

namespace rz {

std::vector<ScheduleEntry> parse_lr_schedule(const std::string& text) {
  std::vector<ScheduleEntry> out;
  const std::string s = trim(text);
  if (s.empty()) return out;
  auto refuse = [&](const std::string& why) {
    throw ConfigError(fmt::format(
        "option learner.lr_schedule='{}' is invalid ({}): use 'at:rate,at:rate' with rates in "
        "(0, 10] and strictly increasing starts, all learner steps (integers >= 0, e.g. "
        "'100000:0.002') or all fractions of the run (in (0, 1), e.g. '0.66:0.002', with "
        "--minutes M)",
        text, why));
  };
  size_t pos = 0;
  while (true) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    const std::string item = s.substr(pos, comma - pos);
    const auto colon = item.find(':');
    ScheduleEntry e;
    if (colon == std::string::npos) refuse("'" + trim(item) + "' has no ':'");
    if (!parse_double(item.substr(0, colon), &e.at))
      refuse("'" + trim(item) + "' starts with no number");
    if (!parse_double(item.substr(colon + 1), &e.rate) || e.rate <= 0 || e.rate > 10)
      refuse("the rate of '" + trim(item) + "' is not in (0, 10]");
    if (e.at > 0 && e.at < 1) {
      e.fraction = true;
    } else if (e.at < 0 || e.at != std::floor(e.at) || e.at > 9.0e18) {
      refuse("'" + trim(item) + "' starts neither at a step nor at a fraction in (0, 1)");
    }
    if (!out.empty() && out.back().fraction != e.fraction)
      refuse("it mixes steps and fractions of the run");
    if (!out.empty() && e.at <= out.back().at) refuse("the starts do not increase");
    out.push_back(e);
    if (comma == s.size()) break;
    pos = comma + 1;
  }
  return out;
}

bool lr_schedule_is_fractional(const std::string& text) {
  const auto entries = parse_lr_schedule(text);
  return !entries.empty() && entries.front().fraction;
}

double learning_rate_at(const LearnerConfig& learner, int64_t step, double run_fraction) {
  double lr = learner.lr;
  for (const ScheduleEntry& e : parse_lr_schedule(learner.lr_schedule)) {
    const bool reached = e.fraction ? run_fraction >= e.at : static_cast<double>(step) >= e.at;
    if (reached) lr = e.rate;
  }
  return lr;
}

}  // namespace rz
