// The shared command-line and config-file parser every ringzero process runs at start-up.
//
// Every role reads the same options (common/run_config.h), so a run is described by one file,
// RUN/config.ini, that the supervisor writes at start and every process it spawns reads back
// with `--config RUN/config.ini`. Sources, strongest first:
//   1. the command line:  --learner.batch_size 128   (or --learner.batch_size=128)
//   2. the config file:   [learner]
//                         batch_size=256             (INI section + key = option name)
//   3. game-dependent defaults (only for options given nowhere, common/config_options.h)
//   4. built-in defaults (the member initialisers of common/run_config.h; `--help` lists them).
// Top-level options (game, seed) come before the first [section] in a file.
//
// Shared flags every role accepts besides the options: --help, --config FILE, and two
// shorthands used on process command lines: --shm NAME (= --shm.name) and --run-dir DIR
// (= --run.dir), and --minutes M (= --run.minutes). Role-specific flags (the actor's --slot, the
// learner's --resume, the launcher's subcommand) are declared by the role itself in
// RoleOptions::flags/positional and come back in the variables_map; the shared parser never needs
// to know them.
//
// Nonsense is refused with ConfigError, a ONE-LINE message naming the option, the bad value
// and what is allowed (negative sizes, probabilities outside [0,1], unknown games, text
// where a number belongs, unknown options in the file or on the command line, a key given
// twice).
//
// This is the one header that brings in Boost.Program_options: include it only where argv or
// INI text is parsed (the mains, the launcher's commands). Code that only reads a RunConfig
// includes common/run_config.h; code that writes one, common/config_options.h.
//
// Typical main:
//   rz::RoleOptions role("actor", "ringzero-actor --shm NAME --slot K --config RUN/config.ini");
//   role.flags.add_options()("slot", po::value<int>()->required(), "lane/stats slot");
//   po::variables_map flags;
//   rz::RunConfig cfg = rz::parse_config_or_exit(argc, argv, role, &flags);
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <utility>

#include "common/run_config.h"

namespace rz {

// What a role adds to the shared parser.
struct RoleOptions {
  RoleOptions(std::string role, std::string usage)
      : role(std::move(role)), usage(std::move(usage)), flags("Flags of " + this->role) {}
  std::string role;   // "actor", "learner", "launch", ... (for messages)
  std::string usage;  // first line of --help
  boost::program_options::options_description flags;
  boost::program_options::positional_options_description positional;
};

struct ParsedCommandLine {
  RunConfig config;
  boost::program_options::variables_map flags;  // the role's own flags (already notified)
  bool help_requested = false;
  std::string help_text;    // usage + role flags + shared flags + every option with default
  std::string config_file;  // the --config file read, or ""
};

// Parses argv. Throws ConfigError (one line) on any bad input, including a role flag that
// is missing or malformed. On --help fills help_text and skips validation.
ParsedCommandLine parse_command_line(int argc, const char* const* argv, const RoleOptions& role);

// For mains: as above, but prints --help to stdout and exits 0, or prints
// "ringzero-<role>: <message>" to stderr and exits 2 on bad input.
RunConfig parse_config_or_exit(int argc, char** argv, const RoleOptions& role,
                               boost::program_options::variables_map* flags = nullptr);

// Reads an INI text / file (the format to_ini writes, common/config_options.h) with nothing on
// top.
RunConfig parse_config_text(const std::string& ini_text);
RunConfig load_config_file(const std::string& path);

}  // namespace rz
