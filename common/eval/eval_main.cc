// ringzero-eval: how good is a network? Three questions, three subcommands, and the run's
// evaluator role.
//   accuracy  how often its moves are optimal / keep the result, against the solver;
//   moves     its chosen move for every position of a file (for outside tools to score);
//   arena     its results against another agent (baselines, the solver, other checkpoints);
//   positions makes a Connect Four test set (position_set.h) for `accuracy`;
//   live      the `eval` role of a run: measures each new published network while training
//             goes on (live_evaluator.h), into RUN/eval.csv and its stats slot.
// The logic lives in the ringzero_eval library (agent.h, arena.h, move_accuracy.h,
// live_evaluator.h); this file only reads options, loads networks and prints.
// Exit status: 0; 2 for a bad command line (UsageError, a rz::UserError) or configuration;
// 1 for any other problem (one line on stderr).
#include <fmt/format.h>

#include <signal.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/durable_file.h"
#include "common/error.h"
#include "common/eval/agent.h"
#include "common/eval/arena.h"
#include "common/eval/live_evaluator.h"
#include "common/eval/move_accuracy.h"
#include "common/eval/network_file.h"
#include "common/eval/position_set.h"
#include "common/net/net_evaluator.h"
#include "common/role_process.h"
#include "common/solver/position_file.h"

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  ringzero-eval accuracy --positions FILE (--checkpoint CKPT | --weights BLOB)\n"
    "                         [--sims N] [--limit K] [--labels PATH] [--gumbel] [--json]\n"
    "  ringzero-eval moves    --positions FILE (--checkpoint CKPT | --weights BLOB) [--sims N]\n"
    "  ringzero-eval arena    --game G --a SPEC --b SPEC [--games N] [--sims N]\n"
    "                         [--openings FILE] [--seed S] [--json]\n"
    "  ringzero-eval positions [--count N] [--stones A-B] [--seed S] [--sensible P]\n"
    "                         (> FILE | --out FILE: also writes FILE.labels, solved on the way)\n"
    "                         (Connect Four positions where some move changes the result)\n"
    "  ringzero-eval live     --shm NAME --run-dir RUN --config RUN/config.ini [--eval.X V]\n"
    "                         (the run's evaluator; `ringzero-eval live --help` for options)\n"
    "SPEC: random | mcts:N (rollout MCTS) | solver (connect4) | minimax (tictactoe) |\n"
    "      net:CKPT_OR_BLOB[:N] (N MCTS simulations; raw policy if 0; default --sims) |\n"
    "      gnet:CKPT_OR_BLOB[:N] (the same with the Gumbel root search, mcts.gumbel)\n"
    "--sims N: MCTS simulations for the network (accuracy: also reports the raw policy;\n"
    "          --gumbel searches with the Gumbel root;\n"
    "          moves: 0 = raw policy). Labels are cached in --labels (default FILE.labels).\n"
    "See docs/evaluation.md.\n";

// A bad command line: exit 2 with a pointer to --help (common/error.h).
struct UsageError : rz::UserError {
  using rz::UserError::UserError;
};

// --name value options, each allowed once; the subcommand says which names it accepts.
using Options = std::map<std::string, std::string>;

Options parse_options(int argc, char** argv, const std::set<std::string>& accepted,
                      const std::set<std::string>& flags) {
  Options options;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) throw UsageError(fmt::format("unexpected argument '{}'", arg));
    const std::string name = arg.substr(2);
    if (!accepted.count(name) && !flags.count(name))
      throw UsageError(fmt::format("unknown option '{}' for '{}'", arg, argv[1]));
    if (options.count(name)) throw UsageError(fmt::format("option '{}' given twice", arg));
    if (flags.count(name)) {
      options[name] = "1";
      continue;
    }
    if (i + 1 >= argc) throw UsageError(fmt::format("option '{}' needs a value", arg));
    options[name] = argv[++i];
  }
  return options;
}

std::string required(const Options& o, const std::string& name) {
  const auto it = o.find(name);
  if (it == o.end()) throw UsageError(fmt::format("missing --{}", name));
  return it->second;
}

int int_option(const Options& o, const std::string& name, int fallback, int min, int max) {
  const auto it = o.find(name);
  if (it == o.end()) return fallback;
  char* end = nullptr;
  const long v = std::strtol(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end || v < min || v > max)
    throw UsageError(
        fmt::format("--{} must be an integer in [{}, {}], not '{}'", name, min, max, it->second));
  return static_cast<int>(v);
}

// The network named by --checkpoint or --weights (exactly one).
rz::NetworkFile network_option(const Options& o) {
  const bool ckpt = o.count("checkpoint"), weights = o.count("weights");
  if (ckpt == weights) throw UsageError("give exactly one of --checkpoint CKPT or --weights BLOB");
  return rz::read_network_file(ckpt ? o.at("checkpoint") : o.at("weights"));
}

std::unique_ptr<rz::Agent> network_agent(const rz::NetworkFile& net, const rz::Game& game, int sims,
                                         uint64_t seed, bool gumbel = false) {
  auto evaluator = rz::make_network_evaluator(net, game);
  if (sims == 0) return rz::make_policy_agent(game, std::move(evaluator), "policy");
  return rz::make_mcts_agent(game, std::move(evaluator), sims, seed,
                             fmt::format("{}:{}", gumbel ? "gumbel" : "mcts", sims), gumbel);
}

int run_accuracy(int argc, char** argv) {
  const auto o = parse_options(
      argc, argv, {"positions", "checkpoint", "weights", "sims", "limit", "labels"},
      {"json", "gumbel"});
  const std::string positions = required(o, "positions");
  const int sims = int_option(o, "sims", 200, 0, 1000000);
  const int limit = int_option(o, "limit", 0, 0, 100000000);
  const std::string labels_path = o.count("labels") ? o.at("labels") : positions + ".labels";
  const auto net = network_option(o);
  const auto game = rz::make_game(net.header.game_spec);
  if (game->spec() != "connect4")
    throw UsageError(fmt::format("accuracy needs a connect4 network, '{}' is {}", net.path,
                                 net.header.description()));

  rz::Connect4Solver solver;
  const auto labels = rz::load_or_solve_labels(positions, labels_path, limit, solver);
  fmt::print(stderr, "{}{}\n", labels.note,
             labels.note.find("cannot write") != std::string::npos && !o.count("labels")
                 ? " with --labels PATH"
                 : "");

  struct Row {
    std::string agent;
    rz::AccuracyResult r;
  };
  std::vector<Row> rows;
  auto policy = network_agent(net, *game, 0, 1);
  rows.push_back({"policy", rz::measure_accuracy(*game, labels.positions, *policy)});
  if (sims > 0) {
    auto mcts = network_agent(net, *game, sims, 1, o.count("gumbel") > 0);
    rows.push_back({mcts->name(), rz::measure_accuracy(*game, labels.positions, *mcts)});
  }
  if (o.count("json")) {
    fmt::print(
        "{{\"positions_file\": \"{}\", \"network\": \"{}\", \"positions\": {}, "
        "\"counted\": {}, \"agents\": [",
        positions, net.header.description(), rows[0].r.positions, rows[0].r.counted);
    for (size_t i = 0; i < rows.size(); ++i)
      fmt::print("{}{{\"agent\": \"{}\", \"optimal\": {:.4f}, \"keeps_result\": {:.4f}}}",
                 i ? ", " : "", rows[i].agent, rows[i].r.optimal_fraction(),
                 rows[i].r.keeps_fraction());
    fmt::print("]}}\n");
  } else {
    fmt::print("{} ({} positions; {} where some move loses the result count)\n", positions,
               rows[0].r.positions, rows[0].r.counted);
    fmt::print("{:<12} {:>10} {:>14}\n", "agent", "optimal", "keeps result");
    for (const auto& row : rows)
      fmt::print("{:<12} {:>9.1f}% {:>13.1f}%\n", row.agent, 100 * row.r.optimal_fraction(),
                 100 * row.r.keeps_fraction());
  }
  return 0;
}

int run_moves(int argc, char** argv) {
  const auto o = parse_options(argc, argv, {"positions", "checkpoint", "weights", "sims"}, {});
  const std::string positions = required(o, "positions");
  const int sims = int_option(o, "sims", 0, 0, 1000000);
  const auto net = network_option(o);
  const auto game = rz::make_game(net.header.game_spec);
  // Validate every line before printing anything: a bad file gives an error, not half output.
  struct Item {
    std::string moves;
    std::vector<rz::Action> history;
    std::unique_ptr<rz::State> state;
  };
  std::vector<Item> items;
  {
    std::ifstream in(positions);
    if (!in) throw UsageError(fmt::format("cannot read positions file '{}'", positions));
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      std::istringstream fields(line);
      Item item;
      if (!(fields >> item.moves)) continue;
      try {
        item.state = rz::state_from_moves(*game, item.moves, &item.history);
      } catch (const rz::GameError& e) {
        throw std::runtime_error(fmt::format("{}:{}: {}", positions, number, e.what()));
      }
      items.push_back(std::move(item));
    }
  }
  auto agent = network_agent(net, *game, sims, 1);
  for (const auto& item : items)
    fmt::print("{} {}\n", item.moves,
               game->action_to_string(agent->choose(*item.state, item.history)));
  return 0;
}

int run_arena(int argc, char** argv) {
  const auto o =
      parse_options(argc, argv, {"game", "a", "b", "games", "sims", "openings", "seed"}, {"json"});
  const auto game = rz::make_game(required(o, "game"));
  const int games = int_option(o, "games", 100, 1, 10000000);
  const int sims = int_option(o, "sims", 0, 0, 1000000);
  const uint64_t seed = static_cast<uint64_t>(int_option(o, "seed", 1, 0, 2147483647));
  // net:PATH without its own :N takes --sims.
  const auto with_sims = [&](std::string spec) {
    const size_t kind = spec.rfind("net:", 0) == 0 ? 3 : spec.rfind("gnet:", 0) == 0 ? 4 : 0;
    if (kind > 0) {
      const auto last = spec.rfind(':');
      const std::string tail = spec.substr(last + 1);
      if (last == kind || tail.empty() || tail.find_first_not_of("0123456789") != std::string::npos)
        spec += fmt::format(":{}", sims);
    }
    return spec;
  };
  const rz::NetEvaluatorFactory nets = [](const std::string& path, const rz::Game& g) {
    return rz::make_network_evaluator(rz::read_network_file(path), g);
  };
  auto a = rz::make_agent(with_sims(required(o, "a")), *game, seed, nets);
  auto b = rz::make_agent(with_sims(required(o, "b")), *game, seed + 1000003, nets);
  std::vector<std::vector<rz::Action>> openings;
  if (o.count("openings")) openings = rz::read_openings(*game, o.at("openings"));
  // Without an opening book, proving the first moves of Connect Four takes the solver
  // minutes each (docs/evaluation.md): refuse rather than appear to hang.
  if (openings.empty() && (a->name() == "solver" || b->name() == "solver"))
    throw UsageError(
        "the solver needs minutes per move near the empty board: give --openings FILE, e.g. "
        "../shared/data/connect4/Test_L2_R1 (positions with 15+ stones)");

  const auto r = rz::play_arena(*game, *a, *b, games, openings);
  const auto s = r.stats();
  if (o.count("json")) {
    const auto num = [](double v) {
      return std::isinf(v) ? std::string("null") : fmt::format("{:.2f}", v);
    };
    fmt::print(
        "{{\"game\": \"{}\", \"a\": \"{}\", \"b\": \"{}\", \"games\": {}, "
        "\"a_first\": [{}, {}, {}], \"a_second\": [{}, {}, {}], \"score\": {:.4f}, "
        "\"score_95\": [{:.4f}, {:.4f}], \"elo\": {}, \"elo_95\": [{}, {}]}}\n",
        game->spec(), a->name(), b->name(), r.games(), r.wins[0], r.draws[0], r.losses[0],
        r.wins[1], r.draws[1], r.losses[1], s.score, s.score_low, s.score_high, num(s.elo),
        num(s.elo_low), num(s.elo_high));
  } else {
    fmt::print("{}: A = {} vs B = {}, {} games{}\n", game->spec(), a->name(), b->name(), r.games(),
               openings.empty() ? "" : fmt::format(" from {} openings", openings.size()));
    fmt::print("  A as first player:  {} W  {} D  {} L\n", r.wins[0], r.draws[0], r.losses[0]);
    fmt::print("  A as second player: {} W  {} D  {} L\n", r.wins[1], r.draws[1], r.losses[1]);
    fmt::print("  A score {:.3f}  95% [{:.3f}, {:.3f}] (Wilson)   Elo(A - B) {} [{}, {}]\n",
               s.score, s.score_low, s.score_high, rz::format_elo(s.elo), rz::format_elo(s.elo_low),
               rz::format_elo(s.elo_high));
  }
  return 0;
}

// Prints the set on stdout (Pons' format), or with --out writes it and its label cache
// (FILE.labels: the scores the generation solved anyway, so labelling costs nothing more);
// the progress goes to stderr.
int run_positions(int argc, char** argv) {
  const auto o = parse_options(argc, argv, {"count", "stones", "seed", "sensible", "out"}, {});
  rz::PositionSetOptions options;
  options.count = int_option(o, "count", options.count, 1, 1000000);
  options.seed = static_cast<uint64_t>(int_option(o, "seed", 1, 0, 2147483647));
  if (o.count("stones")) {
    const std::string range = o.at("stones");
    int a = -1, b = -1;
    char dash = 0, extra = 0;
    if (std::sscanf(range.c_str(), "%d%c%d%c", &a, &dash, &b, &extra) != 3 || dash != '-')
      throw UsageError(fmt::format("--stones must look like 8-30, not '{}'", range));
    options.min_stones = a;
    options.max_stones = b;
  }
  if (o.count("sensible")) {
    char* end = nullptr;
    options.sensible_move_prob = std::strtod(o.at("sensible").c_str(), &end);
    if (*end || !(options.sensible_move_prob >= 0 && options.sensible_move_prob <= 1))
      throw UsageError(
          fmt::format("--sensible must be a probability in [0, 1], not '{}'", o.at("sensible")));
  }
  rz::Connect4Solver solver;
  const auto set = rz::make_position_set(options, solver, [&](int kept, int tried) {
    if (kept % 25 == 0 || kept == options.count)
      fmt::print(stderr, "positions: {} kept of {} drawn\n", kept, tried);
  });
  std::string text;
  for (const auto& p : set) text += fmt::format("{} {}\n", p.moves, rz::best_score(p.scores));
  if (!o.count("out")) {
    fmt::print("{}", text);
    return 0;
  }
  const std::string out = o.at("out");
  std::vector<rz::LabelledPosition> labels;
  for (size_t i = 0; i < set.size(); ++i)
    labels.push_back({static_cast<int>(i + 1), set[i].moves, set[i].scores});
  // The file first: a cache never names a set that is not on disk.
  rz::write_file_durably(out, text);
  rz::write_label_cache(text, out + ".labels", labels);
  fmt::print(stderr, "positions: wrote {} and its labels {}.labels\n", out, out);
  return 0;
}

// `live` reads the run's shared options (common/config.h): argv is shifted so that the
// shared parser sees "live" as the program name. It starts like every role
// (common/role_process.h); its stop word stops the evaluation between two games.
int run_live(int argc, char** argv) {
  std::atomic<uint32_t>& stop = rz::start_role_process();
  rz::RoleOptions role("eval",
                       "ringzero-eval live --shm NAME --run-dir RUN --config RUN/config.ini");
  const rz::RunConfig config = rz::parse_config_or_exit(argc - 1, argv + 1, role);
  const std::string positions =
      rz::resolve_accuracy_positions(config.eval.accuracy_positions, RZ_DEFAULT_ACCURACY_POSITIONS);
  const std::string early_middle = rz::resolve_accuracy_positions(
      config.eval.early_middle_positions, RZ_DEFAULT_EARLY_MIDDLE_POSITIONS);
  rz::LiveEvaluator(config, positions, &stop, early_middle).run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A closed reader of our output (a dead supervisor's pipe) must cost a lost line, not the
  // process: write() then fails with EPIPE instead of SIGPIPE killing us mid-shutdown.
  ::signal(SIGPIPE, SIG_IGN);
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "--help" || command == "-h" || command == "help") {
    fmt::print("{}", kUsage);
    return 0;
  }
  try {
    rz::set_cpu_threads(1);  // evaluation runs beside actors and the learner: one core
    if (command == "accuracy") return run_accuracy(argc, argv);
    if (command == "moves") return run_moves(argc, argv);
    if (command == "arena") return run_arena(argc, argv);
    if (command == "positions") return run_positions(argc, argv);
    if (command == "live") return run_live(argc, argv);
    throw UsageError(
        command.empty()
            ? "missing subcommand: choose accuracy, moves, arena, positions or live"
            : fmt::format(
                  "unknown subcommand '{}': choose accuracy, moves, arena, positions or live",
                  command));
  } catch (const UsageError& e) {
    fmt::print(stderr, "ringzero-eval: {} (see ringzero-eval --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "ringzero-eval: {}\n", e.what());
    return 1;
  }
}
