// Schedules over a run: the learning-rate schedule, by learner step or by fraction of the run.
//
// A run's length is set in steps (learner.max_steps) or, better for users, in minutes of
// training (run.minutes, `launch.sh start --minutes M`): the steps an hour makes depend on the
// machine, the minutes do not. A schedule written in fractions of the run therefore means the
// same thing on a laptop and on a GPU box: `learner.lr_schedule 0.66:0.002` drops the rate
// after two thirds of the run's training time. Its entries "at:rate" are either all steps
// (integers >= 0, as before) or all fractions (numbers in (0, 1)); mixing them is refused,
// since their order would depend on the machine. A fractional schedule needs run.minutes > 0:
// validate() (common/run_config.cc) refuses it otherwise, in one line naming the fix.
//
// The learner measures the fraction with its training clock (common/run_clock.h), which
// survives restarts and `start --resume` through the checkpoint.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/run_config.h"

namespace rz {

struct ScheduleEntry {
  bool fraction = false;  // true: `at` is a fraction of the run in (0, 1); false: a step
  double at = 0;
  double rate = 0;
};

// Parses "at:rate,at:rate" (empty = no entries). Throws ConfigError naming
// learner.lr_schedule, the value and what is allowed.
std::vector<ScheduleEntry> parse_lr_schedule(const std::string& text);

// True if the schedule's entries are fractions of the run (it then needs run.minutes > 0).
bool lr_schedule_is_fractional(const std::string& text);

// The learning rate in force at `step`, `run_fraction` of the run's training time done (used
// only by a fractional schedule; 0 when the run has no length).
double learning_rate_at(const LearnerConfig& learner, int64_t step, double run_fraction = 0);

}  // namespace rz
