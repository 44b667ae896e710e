// The option table: every option of RunConfig declared once, with its name, range and help.
//
// The parsers (common/config.h: command line, --config file, --help) and the INI text a run
// writes (to_ini below) are all generated from this one table, so they cannot disagree about
// an option's name, its allowed values or its default. Values travel as strings and are parsed
// by the table's setters, not by boost::lexical_cast: boost would accept "-1" for an unsigned
// and wrap it. No Boost here: writing a RunConfig out (the supervisor, the learner's
// checkpoints) needs only the table.
//
// Game-dependent defaults (Dirichlet alpha ~ 10 / average legal moves, fewer simulations for
// tic-tac-toe, ...) are applied only to the options the user gave nowhere; the written file
// carries the resolved values, so reading it back reproduces the run exactly.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/run_config.h"

namespace rz {

struct ConfigOption {
  std::string name;     // "learner.batch_size"
  std::string meta;     // "N", "X", "BOOL", "TEXT"
  std::string help;     // one line
  std::string allowed;  // "an integer in [1, 65536]" (for messages)
  // Parses `value` into the config; throws ConfigError naming the option, the value and
  // `allowed`.
  std::function<void(RunConfig&, const std::string&)> set;
  std::function<std::string(const RunConfig&)> get;  // reads back exactly through `set`
  bool game_dependent = false;                       // default comes from apply_game_defaults()
};

// Every option, in the order of --help and of to_ini's sections.
const std::vector<ConfigOption>& config_options();

// Sets the game-dependent options whose names are not in `given` from config->game.
void apply_game_defaults(RunConfig* config, const std::vector<std::string>& given);
// Sets the defaults that follow the run's length (run.minutes) when not in `given`: the
// learning rate drops to lr / 10 for the last third of a run of known length.
void apply_run_length_defaults(RunConfig* config, const std::vector<std::string>& given);

// Every option and its value, INI sections in a fixed order; parse_config_text(to_ini(c))
// (common/config.h) gives back c. Floats are printed so that they read back exactly.
std::string to_ini(const RunConfig& config);

// Writes to_ini(config) to `path` so that a crash at any instant leaves either the old file
// or the complete new one (common/durable_file.h). Throws ConfigError naming the path and the
// system error.
void write_config_atomically(const RunConfig& config, const std::string& path);

}  // namespace rz
