#include "common/config.h"

#include "common/durable_file.h"
#include "common/hash.h"
#include "common/text_parse.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <random>
#include <sstream>
#include <thread>

#include "common/game.h"
#include "common/run_schedule.h"

namespace po = boost::program_options;

namespace rz {
namespace {

// ---------------------------------------------------------------------------------------
// The option table. Every option is declared once here with its accessor, range and help;
// the parser, --help and to_ini are all generated from it, so they cannot disagree.
// Values travel as strings so that we, not lexical_cast, decide what is valid: boost would
// accept "-1" for an unsigned and wrap it.

struct Option {
  std::string name;     // "learner.batch_size"
  std::string meta;     // "N", "X", "TEXT"
  std::string help;     // one line
  std::string allowed;  // "an integer in [1, 65536]" (for messages)
  std::function<void(RunConfig&, const std::string&)> set;  // throws ConfigError
  std::function<std::string(const RunConfig&)> get;
  bool game_dependent = false;  // default comes from defaults_for_game()
};

[[noreturn]] void refuse(const std::string& name, const std::string& value,
                         const std::string& allowed) {
  throw ConfigError(fmt::format("option {}='{}' is invalid: use {}", name, value, allowed));
}

// Whole-string integer parse; false on anything else (sign for unsigned, spaces, suffixes).
bool parse_i64(const std::string& raw, int64_t* out) {
  const std::string s = trim(raw);
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

bool parse_u64(const std::string& raw, uint64_t* out) {
  const std::string s = trim(raw);
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

bool parse_bool(const std::string& raw, bool* out) {
  std::string s = trim(raw);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "1" || s == "true" || s == "yes" || s == "on") return *out = true, true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return *out = false, true;
  return false;
}

std::string range_text(const char* kind, double lo, double hi, bool lo_open = false) {
  if (hi == std::numeric_limits<double>::infinity())
    return fmt::format("{} {} {}", kind, lo_open ? ">" : ">=", lo);
  return fmt::format("{} in {}{}, {}]", kind, lo_open ? "(" : "[", lo, hi);
}

template <typename T, typename Access>
Option int_option(std::string name, std::string help, Access access, int64_t lo, int64_t hi) {
  Option o;
  o.name = std::move(name);
  o.meta = "N";
  o.help = std::move(help);
  o.allowed = hi == std::numeric_limits<int64_t>::max()
                  ? fmt::format("an integer >= {}", lo)
                  : fmt::format("an integer in [{}, {}]", lo, hi);
  o.set = [name = o.name, allowed = o.allowed, access, lo, hi](RunConfig& c, const std::string& v) {
    int64_t x = 0;
    if (!parse_i64(v, &x) || x < lo || x > hi) refuse(name, v, allowed);
    access(c) = static_cast<T>(x);
  };
  o.get = [access](const RunConfig& c) {
    return fmt::format("{}", access(const_cast<RunConfig&>(c)));
  };
  return o;
}

template <typename Access>
Option u64_option(std::string name, std::string help, Access access, uint64_t lo, uint64_t hi,
                  std::string allowed = "") {
  Option o;
  o.name = std::move(name);
  o.meta = "N";
  o.help = std::move(help);
  o.allowed = allowed.empty() ? fmt::format("an integer in [{}, {}]", lo, hi) : allowed;
  o.set = [name = o.name, allowed = o.allowed, access, lo, hi](RunConfig& c, const std::string& v) {
    uint64_t x = 0;
    if (!parse_u64(v, &x) || x < lo || x > hi) refuse(name, v, allowed);
    access(c) = x;
  };
  o.get = [access](const RunConfig& c) {
    return fmt::format("{}", access(const_cast<RunConfig&>(c)));
  };
  return o;
}

// Real-valued option in [lo, hi] (or (lo, hi] when lo_open).
template <typename T, typename Access>
Option real_option(std::string name, std::string help, Access access, double lo, double hi,
                   bool lo_open, std::string extra = "") {
  Option o;
  o.name = std::move(name);
  o.meta = "X";
  o.help = std::move(help);
  o.allowed = range_text("a number", lo, hi, lo_open) + extra;
  o.set = [name = o.name, allowed = o.allowed, access, lo, hi, lo_open](RunConfig& c,
                                                                        const std::string& v) {
    double x = 0;
    if (!parse_double(v, &x) || x > hi || (lo_open ? x <= lo : x < lo)) refuse(name, v, allowed);
    access(c) = static_cast<T>(x);
  };
  // fmt's "{}" prints the shortest text that reads back to the same value.
  o.get = [access](const RunConfig& c) {
    return fmt::format("{}", access(const_cast<RunConfig&>(c)));
  };
  return o;
}

template <typename Access>
Option bool_option(std::string name, std::string help, Access access) {
  Option o;
  o.name = std::move(name);
  o.meta = "BOOL";
  o.help = std::move(help);
  o.allowed = "true or false";
  o.set = [name = o.name, allowed = o.allowed, access](RunConfig& c, const std::string& v) {
    bool x = false;
    if (!parse_bool(v, &x)) refuse(name, v, allowed);
    access(c) = x;
  };
  o.get = [access](const RunConfig& c) {
    return std::string(access(const_cast<RunConfig&>(c)) ? "true" : "false");
  };
  return o;
}

template <typename Access, typename Check>
Option text_option(std::string name, std::string help, Access access, std::string allowed,
                   Check check) {
  Option o;
  o.name = std::move(name);
  o.meta = "TEXT";
  o.help = std::move(help);
  o.allowed = std::move(allowed);
  o.set = [name = o.name, allowed = o.allowed, access, check](RunConfig& c, const std::string& v) {
    const std::string t = trim(v);
    if (t.find('\n') != std::string::npos) refuse(name, v, allowed);
    access(c) = check(name, t);
  };
  o.get = [access](const RunConfig& c) { return access(const_cast<RunConfig&>(c)); };
  return o;
}

std::string check_game(const std::string& name, const std::string& value) {
  try {
    return make_game(value)->spec();
  } catch (const GameError& e) {
    throw ConfigError(fmt::format("option {}='{}' is invalid: {}", name, value, e.what()));
  }
}

std::string check_shm_name(const std::string& name, const std::string& value) {
  const bool ok = value.empty() || (value.size() >= 2 && value.size() <= 201 && value[0] == '/' &&
                                    value.find('/', 1) == std::string::npos);
  if (!ok)
    refuse(name, value,
           "a POSIX shared-memory name like /ringzero-run1 (one leading '/', "
           "no other '/', at most 200 characters after the '/'), or empty to derive it");
  return value;
}

std::string check_schedule(const std::string& name, const std::string& value) {
  parse_lr_schedule(value);  // throws with the option's name
  return value;
}

std::string check_device(const std::string& name, const std::string& value) {
  // cuda:N names one GPU by its index (0..255); whether it exists is the learner's check.
  const bool cuda_index = value.size() > 5 && value.size() <= 8 &&
                          value.compare(0, 5, "cuda:") == 0 &&
                          value.find_first_not_of("0123456789", 5) == std::string::npos &&
                          std::stoi(value.substr(5)) <= 255;
  if (value != "auto" && value != "cpu" && value != "cuda" && !cuda_index)
    refuse(name, value, "auto, cpu, cuda or cuda:N (N a GPU index, 0..255)");
  return value;
}

std::string check_precision(const std::string& name, const std::string& value) {
  if (value == "int8")
    throw ConfigError(
        fmt::format("option {}='int8' is not available: LibTorch 1.13's C++ API has no quantized "
                    "convolution without Python's quantization tooling: use auto, fp32 or bf16",
                    name));
  if (value != "auto" && value != "fp32" && value != "bf16")
    refuse(name, value, "auto, fp32 or bf16");
  return value;
}

std::string any_text(const std::string&, const std::string& value) {
  return value;
}

constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();

#define RZ_FIELD(expr)         \
  [](RunConfig & c) -> auto& { \
    return c.expr;             \
  }

const std::vector<Option>& options() {
  static const std::vector<Option> table = [] {
    std::vector<Option> t;
    Option game =
        text_option("game", "game spec: tictactoe, connect4, dotsandboxes[:rows=R,cols=C]",
                    RZ_FIELD(game), "a registered game spec", check_game);
    t.push_back(game);
    t.push_back(u64_option("seed", "random seed of the run (0 = choose one at start)",
                           RZ_FIELD(seed), 0, std::numeric_limits<uint64_t>::max(),
                           "an integer in [0, 18446744073709551615]"));
    t.push_back(text_option("run.dir", "run directory (config, checkpoints, logs)",
                            RZ_FIELD(run_dir), "a directory path", any_text));
    t.push_back(real_option<double>("run.minutes",
                                    "end the run after this many minutes of training (0 = "
                                    "until stopped)",
                                    RZ_FIELD(minutes), 0, 1e7, false));

    t.push_back(int_option<int>("net.blocks", "residual blocks of the network",
                                RZ_FIELD(net.blocks), 0, 64));
    t.push_back(int_option<int>("net.filters", "filters of every convolution",
                                RZ_FIELD(net.filters), 1, 1024));

    Option sims = int_option<int>("mcts.simulations", "simulations of a full search",
                                  RZ_FIELD(mcts.simulations), 1, 1000000);
    sims.game_dependent = true;
    t.push_back(sims);
    t.push_back(real_option<float>("mcts.c_puct", "PUCT exploration constant",
                                   RZ_FIELD(mcts.c_puct), 0, 100, true));
    Option alpha = real_option<float>("mcts.dirichlet_alpha",
                                      "root Dirichlet noise concentration (~10/legal moves)",
                                      RZ_FIELD(mcts.dirichlet_alpha), 0, 100, true);
    alpha.game_dependent = true;
    t.push_back(alpha);
    t.push_back(real_option<float>("mcts.dirichlet_epsilon", "weight of the root noise (0 = off)",
                                   RZ_FIELD(mcts.dirichlet_epsilon), 0, 1, false));
    t.push_back(real_option<float>("mcts.fpu_reduction", "first-play urgency reduction",
                                   RZ_FIELD(mcts.fpu_reduction), 0, 2, false));
    t.push_back(int_option<int>("mcts.virtual_leaves", "leaves per game per evaluation round",
                                RZ_FIELD(mcts.virtual_leaves), 1, 256));
    Option tmoves = int_option<int>("mcts.temperature_moves",
                                    "moves sampled by visit count before playing greedily",
                                    RZ_FIELD(mcts.temperature_moves), 0, 100000);
    tmoves.game_dependent = true;
    t.push_back(tmoves);
    t.push_back(real_option<float>("mcts.temperature", "sampling temperature of early moves",
                                   RZ_FIELD(mcts.temperature), 0, 10, true));
    t.push_back(bool_option("mcts.reuse_tree", "keep the chosen subtree for the next search",
                            RZ_FIELD(mcts.reuse_tree)));
    t.push_back(real_option<float>("mcts.full_search_prob",
                                   "playout cap randomisation: probability of a full search",
                                   RZ_FIELD(mcts.full_search_prob), 0, 1, false));
    t.push_back(int_option<int>("mcts.fast_simulations", "simulations of a fast search",
                                RZ_FIELD(mcts.fast_simulations), 0, 1000000));
    t.push_back(real_option<float>("mcts.resign_threshold",
                                   "resign below this value (< -1 = never resign)",
                                   RZ_FIELD(mcts.resign_threshold), -2, 1, false));
    t.push_back(real_option<float>("mcts.resign_disabled_fraction",
                                   "fraction of games that never resign",
                                   RZ_FIELD(mcts.resign_disabled_fraction), 0, 1, false));

    t.push_back(int_option<int>("actor.games_in_flight", "games one actor plays at once",
                                RZ_FIELD(actor.games_in_flight), 1, 65536));
    t.push_back(int_option<int>("actor.threads", "CPU threads of one actor's network",
                                RZ_FIELD(actor.threads), 1, 256));
    t.push_back(text_option("actor.precision",
                            "network precision: auto (measured at start-up), fp32 or bf16",
                            RZ_FIELD(actor.precision), "auto, fp32 or bf16", check_precision));
    t.push_back(int_option<int>("actor.eval_cache_mib", "evaluation cache per actor, MiB (0 = off)",
                                RZ_FIELD(actor.eval_cache_mib), 0, 4096));

    t.push_back(int_option<int>("learner.batch_size", "positions per training step",
                                RZ_FIELD(learner.batch_size), 1, 65536));
    t.push_back(
        real_option<double>("learner.lr", "SGD learning rate", RZ_FIELD(learner.lr), 0, 10, true));
    t.push_back(text_option(
        "learner.lr_schedule",
        "lr schedule 'at:rate,...', at = step or fraction of the run (empty = constant lr)",
        RZ_FIELD(learner.lr_schedule), "empty or 'step:rate,step:rate' with increasing steps",
        check_schedule));
    t.push_back(real_option<double>("learner.momentum", "SGD momentum", RZ_FIELD(learner.momentum),
                                    0, 0.999, false));
    t.push_back(real_option<double>("learner.weight_decay", "L2 weight decay",
                                    RZ_FIELD(learner.weight_decay), 0, 1, false));
    t.push_back(int_option<int64_t>("learner.replay_positions", "replay window in positions",
                                    RZ_FIELD(learner.replay_positions), 1, 1000000000));
    t.push_back(int_option<int64_t>("learner.min_replay", "positions before training starts",
                                    RZ_FIELD(learner.min_replay), 1, 1000000000));
    t.push_back(real_option<double>("learner.samples_per_position",
                                    "rate limit: samples trained per position (0 = unlimited)",
                                    RZ_FIELD(learner.samples_per_position), 0, 1000000, false));
    t.push_back(int_option<int64_t>("learner.publish_every", "steps between weight publications",
                                    RZ_FIELD(learner.publish_every), 1, kI64Max));
    t.push_back(int_option<int64_t>("learner.checkpoint_every", "steps between checkpoints",
                                    RZ_FIELD(learner.checkpoint_every), 1, kI64Max));
    t.push_back(int_option<int64_t>("learner.checkpoint_seconds",
                                    "also checkpoint after this many seconds (0 = steps only)",
                                    RZ_FIELD(learner.checkpoint_seconds), 0, 86400 * 365));
    t.push_back(int_option<int>("learner.keep_checkpoints", "checkpoints kept on disk",
                                RZ_FIELD(learner.keep_checkpoints), 1, 100000));
    t.push_back(real_option<double>("learner.metrics_seconds", "period of metrics rows",
                                    RZ_FIELD(learner.metrics_seconds), 0, 86400, true));
    t.push_back(int_option<int>("learner.threads", "CPU threads of the learner",
                                RZ_FIELD(learner.threads), 1, 256));
    t.push_back(text_option("learner.device", "training device: auto, cpu, cuda or cuda:N",
                            RZ_FIELD(learner.device), "auto, cpu, cuda or cuda:N", check_device));
    t.push_back(int_option<int64_t>("learner.max_steps", "stop after this many steps (0 = never)",
                                    RZ_FIELD(learner.max_steps), 0, kI64Max));

    t.push_back(int_option<int>("launch.actors", "actor processes (0 = cores - 1, at least 1)",
                                RZ_FIELD(launch.actors), 0, kMaxActors));
    t.push_back(int_option<int>("launch.restart_backoff_ms", "delay before restarting a process",
                                RZ_FIELD(launch.restart_backoff_ms), 0, 600000));
    t.push_back(int_option<int>("launch.max_restarts",
                                "restarts within restart_window_s before giving up",
                                RZ_FIELD(launch.max_restarts), 0, 1000000));
    t.push_back(int_option<int>("launch.restart_window_s", "window of the crash-loop limit",
                                RZ_FIELD(launch.restart_window_s), 1, 86400));
    t.push_back(int_option<int>("launch.learner_stop_timeout_s",
                                "grace between SIGTERM and SIGKILL for the learner",
                                RZ_FIELD(launch.learner_stop_timeout_s), 1, 3600));

    t.push_back(text_option("shm.name", "shared-memory segment name (empty = from run.dir)",
                            RZ_FIELD(shm.name), "a POSIX shared-memory name like /ringzero-x",
                            check_shm_name));
    t.push_back(u64_option("shm.lane_bytes", "bytes of each actor's trajectory lane",
                           RZ_FIELD(shm.lane_bytes), 64ull << 10, 1ull << 32));
    t.push_back(u64_option("shm.max_record_bytes", "largest trajectory record",
                           RZ_FIELD(shm.max_record_bytes), 1ull << 10, 1ull << 30));
    t.push_back(u64_option("shm.weight_bytes",
                           "bytes of each weight buffer (0 = from the network size)",
                           RZ_FIELD(shm.weight_bytes), 0, 1ull << 34));
    t.push_back(int_option<int>("shm.stats_slots", "process stats slots in the segment",
                                RZ_FIELD(shm.stats_slots), 2, 65536));

    t.push_back(bool_option("eval.enabled", "run the evaluator", RZ_FIELD(eval.enabled)));
    t.push_back(int_option<int>("eval.sims", "simulations per evaluation move", RZ_FIELD(eval.sims),
                                1, 1000000));
    t.push_back(
        int_option<int>("eval.games", "games per evaluation", RZ_FIELD(eval.games), 1, 1000000));
    t.push_back(int_option<int>("eval.every_versions", "evaluate every this many versions",
                                RZ_FIELD(eval.every_versions), 1, 1000000));
    t.push_back(int_option<int>("eval.opponent_sims",
                                "simulations of the opponent (plain MCTS, random rollouts)",
                                RZ_FIELD(eval.opponent_sims), 1, 1000000));
    Option strong = int_option<int>("eval.strong_opponent_sims",
                                    "simulations of a second, stronger rollout-MCTS opponent "
                                    "(0 = none)",
                                    RZ_FIELD(eval.strong_opponent_sims), 0, 1000000);
    strong.game_dependent = true;
    t.push_back(strong);
    t.push_back(text_option("eval.accuracy_positions",
                            "connect4 position file for move accuracy (auto = shared "
                            "Test_L3_R1, empty = none)",
                            RZ_FIELD(eval.accuracy_positions), "a file path, auto or empty",
                            any_text));
    t.push_back(int_option<int>("eval.accuracy_limit", "positions of that file tested",
                                RZ_FIELD(eval.accuracy_limit), 1, 100000000));

    // Scale-out (docs/scale-out.md); launch.sh start --serve / join --learner set them.
    t.push_back(text_option("scale.serve",
                            "learner host: HOST:PORT of the run's redis-server (empty = none)",
                            RZ_FIELD(scale.serve), "HOST:PORT or empty", any_text));
    t.push_back(text_option("scale.secret_file", "file with the shared Redis secret",
                            RZ_FIELD(scale.secret_file), "a file path or empty", any_text));
    t.push_back(text_option("scale.learner",
                            "actor host: the learner host's HOST:PORT (set by join)",
                            RZ_FIELD(scale.learner), "HOST:PORT or empty", any_text));
    t.push_back(text_option("scale.host_id", "actor host: this host's id (set by join)",
                            RZ_FIELD(scale.host_id), "letters, digits, . _ -", any_text));
    t.push_back(text_option("eval.early_middle_positions",
                            "connect4 early/middle-game set for move accuracy (auto = "
                            "tests/data/connect4_early_middle, empty = none)",
                            RZ_FIELD(eval.early_middle_positions), "a file path, auto or empty",
                            any_text));
    t.push_back(int_option<int>("eval.early_middle_limit", "positions of that set tested",
                                RZ_FIELD(eval.early_middle_limit), 1, 100000000));
    return t;
  }();
  return table;
}

#undef RZ_FIELD

// Game-dependent defaults. Dirichlet alpha follows AlphaZero's ~10 / (typical number of
// legal moves): chess 0.3, shogi 0.15, go 0.03; tic-tac-toe and Connect Four have <= 9 and
// <= 7 moves (alpha ~1), Dots and Boxes on 3x3 boxes starts with 24 lines (alpha ~0.3-0.4).
// Connect Four samples every move (42 = the longest game): with the greedy tail of
// temperature_moves = 12, self-play only saw a narrow band of late positions and the raw
// policy's accuracy on solved end-game positions stalled; sampling the whole game raised it
// from 73% to 78.5% on Test_L3_R1 in an 8-minute continuation of the same run
// (docs/results.md, "What moved the raw policy").
void apply_game_defaults(RunConfig* c, const std::vector<std::string>& given) {
  auto is_given = [&](const char* n) {
    return std::find(given.begin(), given.end(), n) != given.end();
  };
  const std::string name = make_game(c->game)->name();
  float alpha = 0.3f;
  int sims = 200, temp_moves = 15;
  if (name == "tictactoe") {
    alpha = 1.0f, sims = 50, temp_moves = 4;
  } else if (name == "connect4") {
    alpha = 1.0f, sims = 200, temp_moves = 42;
  } else if (name == "dotsandboxes") {
    alpha = 0.3f, sims = 200, temp_moves = 8;
  }
  if (!is_given("mcts.dirichlet_alpha")) c->mcts.dirichlet_alpha = alpha;
  if (!is_given("mcts.simulations")) c->mcts.simulations = sims;
  if (!is_given("mcts.temperature_moves")) c->mcts.temperature_moves = temp_moves;
  if (!is_given("eval.strong_opponent_sims"))
    c->eval.strong_opponent_sims = name == "connect4" ? 0 : 1000;
}

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
  for (const auto& o : options()) {
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
  for (const auto& o : options()) {
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
  for (const auto& o : options()) {
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
    for (const auto& o : options())
      if (o.name == option) o.set(c, v);
    given.push_back(option);
  };
  shorthand("shm", "shm.name");
  shorthand("run-dir", "run.dir");
  shorthand("minutes", "run.minutes");
  apply_game_defaults(&c, given);
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

void validate(const RunConfig& c) {
  try {
    c.mcts.validate();
  } catch (const std::invalid_argument& e) {
    // "mcts: simulations=0 is ..." -> "option mcts.simulations=0 is ..."
    std::string msg = e.what();
    if (msg.rfind("mcts: ", 0) == 0) msg = "option mcts." + msg.substr(6);
    throw ConfigError(msg);
  }
  // No full search, no training target: the learner would wait for min_replay forever.
  if (c.mcts.full_search_prob <= 0.0f)
    throw ConfigError(fmt::format(
        "option mcts.full_search_prob={} is invalid for a run: no position would ever be a "
        "training target and the learner would never train; use a value in (0, 1]",
        c.mcts.full_search_prob));
  // The segment records the run directory in its 1 KiB run_info (shm/segment.h): checked
  // here, before anything is written, not when the segment is made.
  if (c.run_dir.size() > kMaxRunDirBytes)
    throw ConfigError(
        fmt::format("option run.dir is {} bytes long, the limit is {}: use a shorter --run-dir",
                    c.run_dir.size(), kMaxRunDirBytes));
  if (c.learner.min_replay > c.learner.replay_positions)
    throw ConfigError(fmt::format(
        "option learner.min_replay={} is invalid: use at most learner.replay_positions={}",
        c.learner.min_replay, c.learner.replay_positions));
  if (c.shm.lane_bytes % 64 != 0)
    throw ConfigError(
        fmt::format("option shm.lane_bytes={} is invalid: use a multiple of 64 (a cache line)",
                    c.shm.lane_bytes));
  // A lane must hold two maximum records with their 32-byte headers and 16-byte padding,
  // because a record never wraps around the end of a lane (shm/trajectory_ring.h).
  if (2 * (c.shm.max_record_bytes + 48) > c.shm.lane_bytes)
    throw ConfigError(fmt::format(
        "option shm.max_record_bytes={} is invalid: use at most shm.lane_bytes / 2 - 48 = {}",
        c.shm.max_record_bytes, c.shm.lane_bytes / 2 - 48));
  // Every process of the run takes a stats slot (StatsWriter refuses when none is free, and
  // the process would die at start): the actors, the learner, the evaluator (counted even
  // when off: --resume may turn it on), the supervisor, and a few spare. Checked once the
  // number of actors is known (launch.actors=0 is resolved by `start`, which checks again).
  if (c.launch.actors > 0 && c.shm.stats_slots < stats_slots_needed(c))
    throw ConfigError(fmt::format(
        "option shm.stats_slots={} is invalid: use at least {} (one per process: {} actor{} + "
        "learner + evaluator + supervisor, and {} spare)",
        c.shm.stats_slots, stats_slots_needed(c), effective_actor_count(c),
        effective_actor_count(c) == 1 ? "" : "s", kSpareStatsSlots));
  if (c.minutes == 0 && lr_schedule_is_fractional(c.learner.lr_schedule))
    throw ConfigError(fmt::format(
        "option learner.lr_schedule='{}' gives fractions of the run, which has no length: add "
        "--minutes M (run.minutes) or give learner steps instead",
        c.learner.lr_schedule));
  if (c.shm.weight_bytes != 0 && c.shm.weight_bytes < 4096)
    throw ConfigError(
        fmt::format("option shm.weight_bytes={} is invalid: use 0 (computed) or at least 4096",
                    c.shm.weight_bytes));
}

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
    std::exit(2);
  }
}

RunConfig parse_config_text(const std::string& ini_text) {
  std::istringstream in(ini_text);
  return build(po::variables_map(), parse_ini(in, "config text"));
}

RunConfig load_config_file(const std::string& path) {
  return build(po::variables_map(), read_ini_file(path));
}

std::string to_ini(const RunConfig& c) {
  std::string out = "# ringzero effective configuration: read back with --config FILE\n";
  std::string section;
  for (const auto& o : options()) {
    const auto dot = o.name.find('.');
    const std::string sec = dot == std::string::npos ? "" : o.name.substr(0, dot);
    const std::string key = dot == std::string::npos ? o.name : o.name.substr(dot + 1);
    if (sec != section) {
      out += fmt::format("\n[{}]\n", sec);
      section = sec;
    }
    out += fmt::format("{}={}\n", key, o.get(c));
  }
  return out;
}

void write_config_atomically(const RunConfig& config, const std::string& path) {
  try {
    write_file_durably(path, to_ini(config));
  } catch (const DurableWriteError& e) {
    throw ConfigError(fmt::format("cannot write config '{}': {}", path, e.what()));
  }
}

std::string default_shm_name(const std::string& run_dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(run_dir, ec);
  if (ec) p = run_dir;
  // weakly_canonical resolves symlinks of the existing prefix and removes "." / "..", so
  // "runs/x", "./runs/x/" and "/abs/runs/x" name the same segment.
  std::filesystem::path canon = std::filesystem::weakly_canonical(p, ec);
  if (ec) canon = p.lexically_normal();
  std::string s = canon.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return fmt::format("/ringzero-{:016x}", fnv1a64(s));
}

void resolve_random_seed(RunConfig* config) {
  if (config->seed != 0) return;
  std::random_device rd;
  uint64_t s = 0;
  while (s == 0) s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  config->seed = s;
}

int stats_slots_needed(const RunConfig& config) {
  return effective_actor_count(config) + 3 + kSpareStatsSlots;
}

int effective_actor_count(const RunConfig& config) {
  if (config.launch.actors > 0) return config.launch.actors;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, cores - 1);
}

}  // namespace rz
