#include "common/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "common/config_options.h"
#include "common/text_parse.h"

namespace po = boost::program_options;

namespace rz {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string suggestion(const std::string& unknown) {
  std::string key = unknown;
  while (!key.empty() && key[0] == '-') key.erase(0, 1);
  const auto eq = key.find('=');
  if (eq != std::string::npos) key.resize(eq);
  std::string best;
  size_t best_d = 4;
  for (const auto& o : config_options()) {
    const size_t d = edit_distance(key, o.name);
    if (d < best_d) best_d = d, best = o.name;
  }
  return best.empty() ? "run with --help to list the options"
                      : fmt::format("did you mean {}? (--help lists all options)", best);
}

po::options_description option_description() {
  po::options_description desc(
      "Options (file: [section] key=value; command line: "
      "--section.key VALUE)");
  for (const auto& o : config_options()) {
    const std::string help =
        o.game_dependent ? fmt::format("{} (default depends on the game)", o.help)
                         : fmt::format("{} (default: {})", o.help,
                                       o.get(RunConfig{}).empty() ? "\"\"" : o.get(RunConfig{}));
    desc.add_options()(o.name.c_str(), po::value<std::string>()->value_name(o.meta), help.c_str());
  }
  return desc;
}

po::options_description shared_flags() {
  po::options_description desc("Shared flags");
  desc.add_options()("help,h", "print this help and exit")(
      "config", po::value<std::string>()->value_name("FILE"),
      "read options from an INI file (command-line options override it)")(
      "shm", po::value<std::string>()->value_name("NAME"), "shorthand for --shm.name")(
      "run-dir", po::value<std::string>()->value_name("DIR"), "shorthand for --run.dir")(
      "minutes", po::value<std::string>()->value_name("M"), "shorthand for --run.minutes");
  return desc;
}

// One-line version of a boost error.
std::string explain(const po::error& e, const std::string& where) {
  if (auto* u = dynamic_cast<const po::unknown_option*>(&e))
    return fmt::format("{}: unknown option '{}': {}", where, u->get_option_name(),
                       suggestion(u->get_option_name()));
  std::string msg = e.what();
  for (auto& ch : msg)
    if (ch == '\n') ch = ' ';
  return fmt::format("{}: {}", where, msg);
}

// Applies the raw string values (command line first: it wins) to a RunConfig.
RunConfig build(const po::variables_map& cmdline, const po::variables_map& file) {
  RunConfig c;
  std::vector<std::string> given;
  auto lookup = [&](const std::string& name, std::string* out) {
    if (cmdline.count(name)) return *out = cmdline[name].as<std::string>(), true;
    if (file.count(name)) return *out = file[name].as<std::string>(), true;
    return false;
  };
  // The game first: game-dependent defaults need it.
  std::string value;
  for (const auto& o : config_options()) {
    if (!lookup(o.name, &value)) continue;
    o.set(c, value);
    given.push_back(o.name);
  }
  // Shorthands on the command line (--shm, --run-dir) override the file's values.
  auto shorthand = [&](const char* flag, const char* option) {
    if (!cmdline.count(flag)) return;
    const std::string v = cmdline[flag].as<std::string>();
    if (cmdline.count(option) && cmdline[option].as<std::string>() != v)
      throw ConfigError(fmt::format("--{} '{}' contradicts --{} '{}': give one of them", flag, v,
                                    option, cmdline[option].as<std::string>()));
    for (const auto& o : config_options())
      if (o.name == option) o.set(c, v);
    given.push_back(option);
  };
  shorthand("shm", "shm.name");
  shorthand("run-dir", "run.dir");
  shorthand("minutes", "run.minutes");
  apply_game_defaults(&c, given);
  apply_run_length_defaults(&c, given);
  // A file's shm.name that is just the name derived from the file's own run.dir (what
  // to_ini writes for a run that chose no name) follows the run directory: a config.ini
  // copied into another run with --run-dir NEW must not point at the old run's segment.
  const bool name_on_cmdline = cmdline.count("shm.name") || cmdline.count("shm");
  if (!name_on_cmdline && file.count("shm.name") && file.count("run.dir") &&
      trim(file["shm.name"].as<std::string>()) ==
          default_shm_name(trim(file["run.dir"].as<std::string>())))
    c.shm.name.clear();
  if (c.shm.name.empty() && !c.run_dir.empty()) c.shm.name = default_shm_name(c.run_dir);
  validate(c);
  return c;
}

po::variables_map parse_ini(std::istream& in, const std::string& where) {
  // Kept as text so that a syntax error can be reported with its line number.
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream parsed(text);
  po::variables_map vm;
  try {
    po::store(po::parse_config_file(parsed, option_description(), /*allow_unregistered=*/false),
              vm);
  } catch (const po::invalid_config_file_syntax& e) {
    // Boost names the line but not where it is, nor what a valid one looks like.
    const std::string bad = trim(e.tokens());
    std::istringstream lines(text);
    std::string line;
    int number = 0, found = 0;
    while (std::getline(lines, line)) {
      ++number;
      if (trim(line) == bad) {
        found = number;
        break;
      }
    }
    throw ConfigError(fmt::format(
        "{}: line {} '{}' is not valid INI: write section headers as '[section]' and settings "
        "as 'key=value' ('#' starts a comment)",
        where, found > 0 ? std::to_string(found) : "?", bad));
  } catch (const po::error& e) {
    throw ConfigError(explain(e, where));
  }
  return vm;
}

po::variables_map read_ini_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw ConfigError(fmt::format("cannot read config file '{}': {}", path, std::strerror(errno)));
  return parse_ini(in, fmt::format("config file '{}'", path));
}

}  // namespace

ParsedCommandLine parse_command_line(int argc, const char* const* argv, const RoleOptions& role) {
  ParsedCommandLine out;
  po::options_description all;
  all.add(shared_flags()).add(role.flags).add(option_description());

  po::variables_map cmdline;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(role.positional).run(),
              cmdline);
  } catch (const po::error& e) {
    throw ConfigError(explain(e, "command line"));
  }
  if (cmdline.count("help")) {
    std::ostringstream help;
    help << "usage: " << role.usage << "\n\n";
    if (!role.flags.options().empty()) help << role.flags << "\n";
    help << shared_flags() << "\n" << option_description();
    out.help_requested = true;
    out.help_text = help.str();
    return out;
  }
  try {
    po::notify(cmdline);  // role flags: required(), notifiers
  } catch (const po::error& e) {
    throw ConfigError(explain(e, "command line"));
  }
  po::variables_map file;
  if (cmdline.count("config")) {
    out.config_file = cmdline["config"].as<std::string>();
    file = read_ini_file(out.config_file);
  }
  out.config = build(cmdline, file);
  out.flags = std::move(cmdline);
  return out;
}

RunConfig parse_config_or_exit(int argc, char** argv, const RoleOptions& role,
                               po::variables_map* flags) {
  try {
    ParsedCommandLine parsed = parse_command_line(argc, argv, role);
    if (parsed.help_requested) {
      std::fputs(parsed.help_text.c_str(), stdout);
      std::exit(0);
    }
    if (flags) *flags = std::move(parsed.flags);
    return parsed.config;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "ringzero-%s: %s\n", role.role.c_str(), e.what());
    std::exit(kExitUserError);
  }
}

RunConfig parse_config_text(const std::string& ini_text) {
  std::istringstream in(ini_text);
  return build(po::variables_map(), parse_ini(in, "config text"));
}

RunConfig load_config_file(const std::string& path) {
  return build(po::variables_map(), read_ini_file(path));
}

}  // namespace rz
