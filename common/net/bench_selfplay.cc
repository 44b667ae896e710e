// ringzero-bench-selfplay: how close batched self-play on ONE core comes to the raw speed of
// the network it is waiting on.
//
// For 1, 8, 32 and 128 Connect Four games in flight with 8 virtual leaves each, and one
// unbatched game (1 leaf per round: batch 1) (SelfPlayDriver + NetEvaluator, one intra-op
// thread) it measures self-play positions/s and network evaluations/s, then, in the
// same run, the raw forward throughput of the same network at the batch size self-play
// actually formed (forward passes alone over the evaluator's preallocated input). Their
// ratio is the self-play efficiency: what the tree, observe(), the masked softmax and the
// batching cost on top of the network. It also measures the pure tree cost (uniform
// evaluator: simulations/s, bytes per node) and prints which BLAS LibTorch is bound to,
// because Debian's LibTorch runs small-batch convolutions through the system BLAS.
//
// actor_vs_baseline (issue #14): the actor's default configuration (the resolved run config
// for Connect Four at --simulations 50 and network 4x64: evaluation cache, precision chosen
// by measurement as the actor does) against the fp32 uncached baseline with the same tree
// settings, in alternating windows of the same run, so that load from other processes hits
// both alike; and the same at the small-machine setting (2x32, 40 simulations). The cache is
// invalidated every --switch-seconds of CPU time (default 2 s: how often the learner
// published new weights in docs/results.md's run), as a weight switch does in the actor.
//
// Usage: ringzero-bench-selfplay [--seconds S] [--rows 1x1,1x8,8x8,32x8,128x8]
//                                [--simulations N] [--blocks N] [--filters N] [--sweep] [--json]
//                                [--switch-seconds S] [--actor-only]
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/format_join.h"
#include "common/game.h"
#include "common/mcts/eval_cache.h"
#include "common/mcts/mcts_config.h"
#include "common/mcts/selfplay.h"
#include "common/mcts/tree_cost.h"
#include "common/net/net_config.h"
#include "common/net/net_evaluator.h"
#include "common/text_parse.h"
#include "shm/cpu_topology.h"

namespace rz {
namespace {

using Clock = std::chrono::steady_clock;
// Figures run for --seconds of CPU time; on a crowded machine that takes longer, up to this
// many times --seconds of wall time.
constexpr double kMaxWallFactor = 4.0;

struct Options {
  double seconds = 3.0;
  // Games in flight and virtual leaves per game, one row each; {1, 1} is unbatched search
  // (batch 1: the case Debian's LibTorch sends through the system BLAS).
  std::vector<std::pair<int, int>> rows = {{1, 1}, {1, 8}, {8, 8}, {32, 8}, {128, 8}};
  int simulations = 64;
  NetConfig net;
  bool json = false;
  bool sweep = false;           // also raw forward throughput at batch 1, 2, 4, ..., 1024
  double switch_seconds = 2.0;  // cache invalidation period in actor_vs_baseline
  bool actor_only = false;      // only the actor_vs_baseline comparisons
};

struct Row {
  int games = 0;
  int virtual_leaves = 0;
  double avg_batch = 0;
  double positions_per_s = 0;  // self-play moves played per second
  double evals_per_s = 0;      // network evaluations per second inside self-play
  int forward_batch = 0;
  double forward_per_s = 0;  // raw forward positions per second at forward_batch
  double ratio = 0;          // evals_per_s / forward_per_s
  double cpu_share = 0;      // CPU seconds / wall seconds of the self-play window
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds used by this process. Rates are per CPU-second: on a shared machine wall time
// includes the time other processes held our core, CPU time does not (one thread does all
// the work: LibTorch and OpenBLAS run with one thread).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

Row measure(const Game& game, const Options& o, int games, int virtual_leaves) {
  MctsConfig mcts;
  mcts.simulations = o.simulations;
  mcts.virtual_leaves = virtual_leaves;
  NetEvaluator net(game, o.net, games * virtual_leaves, /*threads=*/1, /*seed=*/1);
  SelfPlayDriver driver(game, net, mcts, games, /*seed=*/2);
  std::vector<FinishedGame> finished;

  // Warm-up: first calls pay for allocator growth and oneDNN primitive creation, and every
  // game's first search starts from an empty tree (later ones reuse the subtree of the move
  // played), so the window starts after as many moves as games in flight.
  const auto warm = Clock::now();
  const double warm_cpu = cpu_seconds();
  while ((cpu_seconds() - warm_cpu < std::min(1.0, o.seconds / 3) ||
          driver.moves_played() < uint64_t(games)) &&
         seconds_since(warm) < kMaxWallFactor * o.seconds) {
    driver.run_round(&finished);
    finished.clear();
  }

  // Games start together and, early on, move in lockstep (every game needs the same number of
  // rounds per move), so moves arrive in bursts. The window therefore runs from the end of a
  // round that played moves to the end of another one, at least o.seconds and two such
  // rounds apart: positions/s then counts whole bursts only.
  auto round_with_moves = [&] {
    const uint64_t before = driver.moves_played();
    do {
      driver.run_round(&finished);
      finished.clear();
    } while (driver.moves_played() == before);
  };
  round_with_moves();
  const uint64_t evals0 = net.states_evaluated(), calls0 = net.calls();
  const uint64_t moves0 = driver.moves_played();
  const auto start = Clock::now();
  const double cpu0 = cpu_seconds();
  int bursts = 0;
  do {
    round_with_moves();
    ++bursts;
  } while ((cpu_seconds() - cpu0 < o.seconds || bursts < 2) &&
           seconds_since(start) < kMaxWallFactor * o.seconds);
  const double t = cpu_seconds() - cpu0;
  Row r;
  r.cpu_share = t / seconds_since(start);
  r.games = games;
  r.virtual_leaves = virtual_leaves;
  const double evals = double(net.states_evaluated() - evals0);
  r.avg_batch = evals / double(net.calls() - calls0);
  r.positions_per_s = double(driver.moves_played() - moves0) / t;
  r.evals_per_s = evals / t;

  // The reference: the same network, forward alone at the batch self-play formed.
  r.forward_batch = std::max(1, static_cast<int>(std::lround(r.avg_batch)));
  for (int i = 0; i < 3; ++i) net.forward_only(r.forward_batch);
  uint64_t passes = 0;
  const auto fstart = Clock::now();
  const double fcpu0 = cpu_seconds();
  do {
    net.forward_only(r.forward_batch);
    ++passes;
  } while (cpu_seconds() - fcpu0 < o.seconds && seconds_since(fstart) < kMaxWallFactor * o.seconds);
  const double ft = cpu_seconds() - fcpu0;
  r.forward_per_s = double(passes) * r.forward_batch / ft;
  r.ratio = r.evals_per_s / r.forward_per_s;
  return r;
}

// One self-play setup (evaluator chain + driver) whose positions/s is measured in windows.
struct Player {
  Player(const Game& game, const RunConfig& rc, bool actor_default)
      : max_batch(rc.actor.games_in_flight * rc.mcts.virtual_leaves),
        net(game, rc.net, max_batch, /*threads=*/1, /*seed=*/1),
        cache(game, net, actor_default ? size_t(rc.actor.eval_cache_mib) << 20 : 0) {
    if (actor_default) {
      // As the actor: "auto" measures, else the configured precision.
      if (rc.actor.precision == "auto")
        precision_line = net.choose_precision_by_measurement(max_batch);
      else if (rc.actor.precision == "bf16")
        net.set_precision(Precision::kBf16);
    }
    Evaluator& e = actor_default ? static_cast<Evaluator&>(cache) : net;
    driver = std::make_unique<SelfPlayDriver>(game, e, rc.mcts, rc.actor.games_in_flight, 2);
  }
  void round() {
    finished.clear();
    driver->run_round(&finished);
  }
  // Runs whole bursts of moves for at least `seconds` of CPU time; adds to the totals.
  void window(double seconds, double switch_seconds, bool invalidate) {
    auto round_with_moves = [&] {
      const uint64_t before = driver->moves_played();
      do {
        round();
        if (invalidate && cpu_seconds() - last_switch >= switch_seconds) {
          cache.invalidate();
          last_switch = cpu_seconds();
        }
      } while (driver->moves_played() == before);
    };
    round_with_moves();
    const uint64_t moves0 = driver->moves_played();
    const double cpu0 = cpu_seconds();
    const auto start = Clock::now();
    do round_with_moves();
    while (cpu_seconds() - cpu0 < seconds && seconds_since(start) < kMaxWallFactor * seconds);
    moves += driver->moves_played() - moves0;
    cpu += cpu_seconds() - cpu0;
    wall += seconds_since(start);
  }
  int max_batch;
  NetEvaluator net;
  CachingEvaluator cache;
  std::unique_ptr<SelfPlayDriver> driver;
  std::vector<FinishedGame> finished;
  std::string precision_line = "fp32";
  double last_switch = cpu_seconds();
  uint64_t moves = 0;
  double cpu = 0, wall = 0;
};

struct ActorComparison {
  std::string network;
  int simulations = 0, games_in_flight = 0, virtual_leaves = 0, eval_cache_mib = 0;
  double positions_per_s = 0, baseline_positions_per_s = 0, speedup = 0;
  double cache_hit_rate = 0, cpu_share = 0;
  std::string precision, precision_line;
};

// The actor's resolved default configuration for Connect Four at this network and budget.
RunConfig actor_defaults(const NetConfig& net, int simulations) {
  const std::vector<std::string> words = {"ringzero-bench-selfplay",
                                          "--game",
                                          "connect4",
                                          "--mcts.simulations",
                                          std::to_string(simulations),
                                          "--net.blocks",
                                          std::to_string(net.blocks),
                                          "--net.filters",
                                          std::to_string(net.filters)};
  std::vector<const char*> argv;
  for (const auto& w : words) argv.push_back(w.c_str());
  return parse_command_line(int(argv.size()), argv.data(),
                            RoleOptions("ringzero-bench-selfplay", ""))
      .config;
}

ActorComparison compare_actor(const Game& game, const Options& o, const NetConfig& shape,
                              int simulations) {
  const RunConfig rc = actor_defaults(shape, simulations);
  Player base(game, rc, false), actor(game, rc, true);
  // Warm-up: every game past its first move (trees reused from then on), caches filled.
  for (Player* p : {&base, &actor})
    while (p->driver->moves_played() < uint64_t(rc.actor.games_in_flight)) p->round();
  const uint64_t lookups0 = actor.cache.lookups(), saved0 = actor.cache.saved();
  // Alternating windows: a drift in the machine's load lands on both sides.
  constexpr int kWindows = 3;
  for (int w = 0; w < kWindows; ++w) {
    base.window(o.seconds / kWindows, o.switch_seconds, false);
    actor.window(o.seconds / kWindows, o.switch_seconds, true);
  }
  ActorComparison c;
  c.network = shape.shape_string();
  c.simulations = simulations;
  c.games_in_flight = rc.actor.games_in_flight;
  c.virtual_leaves = rc.mcts.virtual_leaves;
  c.eval_cache_mib = rc.actor.eval_cache_mib;
  c.positions_per_s = double(actor.moves) / actor.cpu;
  c.baseline_positions_per_s = double(base.moves) / base.cpu;
  c.speedup = c.positions_per_s / c.baseline_positions_per_s;
  c.cache_hit_rate = double(actor.cache.saved() - saved0) /
                     double(std::max<uint64_t>(1, actor.cache.lookups() - lookups0));
  c.cpu_share = (actor.cpu + base.cpu) / (actor.wall + base.wall);
  c.precision = precision_name(actor.net.precision());
  c.precision_line = actor.precision_line;
  return c;
}

std::string comparison_json(const ActorComparison& c) {
  return fmt::format(
      "{{\"network\":\"{}\",\"simulations\":{},\"games_in_flight\":{},\"virtual_leaves\":{},"
      "\"eval_cache_mib\":{},\"positions_per_s\":{:.1f},\"baseline_positions_per_s\":{:.1f},"
      "\"speedup\":{:.3f},\"cache_hit_rate\":{:.4f},\"precision\":\"{}\",\"cpu_share\":{:.3f}}}",
      c.network, c.simulations, c.games_in_flight, c.virtual_leaves, c.eval_cache_mib,
      c.positions_per_s, c.baseline_positions_per_s, c.speedup, c.cache_hit_rate, c.precision,
      c.cpu_share);
}

// Raw forward positions/s of a 1-thread evaluator at each power-of-two batch size.
std::vector<std::pair<int, double>> forward_sweep(const Game& game, const Options& o) {
  NetEvaluator net(game, o.net, 1024, /*threads=*/1, /*seed=*/1);
  std::vector<std::pair<int, double>> out;
  for (int b = 1; b <= 1024; b *= 2) {
    for (int i = 0; i < 3; ++i) net.forward_only(b);
    const auto start = Clock::now();
    const double cpu0 = cpu_seconds();
    uint64_t passes = 0;
    do {
      net.forward_only(b);
      ++passes;
    } while (cpu_seconds() - cpu0 < o.seconds / 4 &&
             seconds_since(start) < kMaxWallFactor * o.seconds);
    out.emplace_back(b, double(passes) * b / (cpu_seconds() - cpu0));
  }
  return out;
}

// What an actor pays to swap weights between rounds: load_blob (validate header and checksum,
// copy into the existing tensors) beside a plain memcpy of the same bytes.
struct WeightSwap {
  size_t bytes = 0;
  double load_ms = 0, memcpy_ms = 0;
};

WeightSwap measure_weight_swap(const Game& game, const Options& o) {
  NetEvaluator a(game, o.net, 1, 1, /*seed=*/1), b(game, o.net, 1, 1, /*seed=*/2);
  const std::vector<uint8_t> blob = a.blob();
  std::vector<uint8_t> copy(blob.size());
  WeightSwap w;
  w.bytes = blob.size();
  constexpr int kReps = 20;
  b.load_blob(blob);  // warm
  double t0 = cpu_seconds();
  for (int i = 0; i < kReps; ++i) b.load_blob(blob);
  w.load_ms = 1e3 * (cpu_seconds() - t0) / kReps;
  t0 = cpu_seconds();
  for (int i = 0; i < kReps; ++i) {
    std::memcpy(copy.data(), blob.data(), blob.size());
    asm volatile("" : : "r"(copy.data()) : "memory");  // keep the copy
  }
  w.memcpy_ms = 1e3 * (cpu_seconds() - t0) / kReps;
  return w;
}

std::string blas_kind(const std::string& path) {
  if (path.find("openblas") != std::string::npos) return "OpenBLAS";
  if (path.find("/blas/") != std::string::npos) return "reference BLAS (netlib)";
  return path.empty() ? "none mapped" : "unknown";
}

int parse_int(const std::string& flag, const std::string& text, int lo, int hi) {
  int v = 0;
  if (!rz::parse_int(text, &v) || v < lo || v > hi)
    throw std::invalid_argument(
        fmt::format("{}={} is invalid: use an integer in [{}, {}]", flag, text, lo, hi));
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value: see --help");
      return argv[++i];
    };
    if (a == "--json") {
      o.json = true;
    } else if (a == "--sweep") {
      o.sweep = true;
    } else if (a == "--actor-only") {
      o.actor_only = true;
    } else if (a == "--switch-seconds") {
      const std::string v = value();
      if (!parse_double(v, &o.switch_seconds) ||
          !(o.switch_seconds > 0 && o.switch_seconds <= 3600))
        throw std::invalid_argument("--switch-seconds=" + v +
                                    " is invalid: use a number in (0, 3600]");
    } else if (a == "--seconds") {
      const std::string v = value();
      if (!parse_double(v, &o.seconds) || !(o.seconds > 0 && o.seconds <= 600))
        throw std::invalid_argument("--seconds=" + v + " is invalid: use a number in (0, 600]");
    } else if (a == "--rows") {
      o.rows.clear();
      std::stringstream ss(value());
      std::string item;
      while (std::getline(ss, item, ',')) {
        const auto x = item.find('x');
        if (x == std::string::npos)
          throw std::invalid_argument("--rows item '" + item +
                                      "' is invalid: write GAMESxLEAVES, "
                                      "e.g. 1x1,1x8,128x8");
        o.rows.emplace_back(parse_int("--rows games", item.substr(0, x), 1, 4096),
                            parse_int("--rows leaves", item.substr(x + 1), 1, 256));
      }
      if (o.rows.empty()) throw std::invalid_argument("--rows is empty: use e.g. 1x1,1x8,128x8");
    } else if (a == "--simulations") {
      o.simulations = parse_int(a, value(), 1, 100000);
    } else if (a == "--blocks") {
      o.net.blocks = parse_int(a, value(), 0, 64);
    } else if (a == "--filters") {
      o.net.filters = parse_int(a, value(), 1, 1024);
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "ringzero-bench-selfplay: Connect Four self-play throughput on one core, beside the\n"
          "raw forward throughput of the same network measured in the same run.\n"
          "  --seconds S         CPU seconds per figure (default 3)\n"
          "  --rows LIST         GAMESxLEAVES per row: games in flight x virtual leaves per\n"
          "                      game per round (default 1x1,1x8,8x8,32x8,128x8)\n"
          "  --simulations N     simulations per move (default 64)\n"
          "  --blocks N --filters N   network shape (default 4x64)\n"
          "  --sweep             also raw forward throughput at batch 1, 2, 4, ..., 1024\n"
          "  --json              one JSON object instead of the table\n"
          "  --switch-seconds S  actor_vs_baseline: cache invalidated every S CPU seconds, as a\n"
          "                      weight switch does (default 2)\n"
          "  --actor-only        only the actor_vs_baseline comparisons\n"
          "Reference BLAS instead of OpenBLAS:\n"
          "  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas ringzero-bench-selfplay\n");
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown option '" + a + "': see --help");
    }
  }
  return o;
}

int run(int argc, char** argv) {
  const Options o = parse(argc, argv);
  auto game = make_game("connect4");
  set_cpu_threads(1);
  const std::string blas = blas_library_in_use();

  const std::string topology = shm::read_cpu_topology().describe();
  const ActorComparison actor = compare_actor(*game, o, NetConfig{4, 64}, 50);
  const ActorComparison small = compare_actor(*game, o, NetConfig{2, 32}, 40);
  if (o.actor_only) {
    if (o.json) {
      std::printf(
          "{\"game\":\"connect4\",\"threads\":1,\"topology\":\"%s\","
          "\"actor_vs_baseline\":%s,\"actor_vs_baseline_small\":%s}\n",
          topology.c_str(), comparison_json(actor).c_str(), comparison_json(small).c_str());
      return 0;
    }
  }
  std::vector<Row> rows;
  if (!o.actor_only)
    for (const auto& [g, vl] : o.rows) rows.push_back(measure(*game, o, g, vl));

  MctsConfig mcts;
  mcts.simulations = o.simulations;
  mcts.virtual_leaves = 8;
  TreeCost tree;
  std::vector<std::pair<int, double>> sweep;
  WeightSwap swap;
  if (!o.actor_only) {
    tree = measure_tree_cost(*game, 32, o.seconds, mcts);
    if (o.sweep) sweep = forward_sweep(*game, o);
    swap = measure_weight_swap(*game, o);
  }

  if (o.json) {
    std::string out = fmt::format(
        "{{\"game\":\"connect4\",\"topology\":\"{}\",\"network\":\"{}\",\"threads\":1,"
        "\"simulations\":{},"
        "\"seconds_per_figure\":{},\"blas\":\"{}\",\"blas_kind\":\"{}\",\"rows\":[",
        topology, o.net.shape_string(), o.simulations, o.seconds, blas, blas_kind(blas));
    out += format_join(rows, ",", [](const Row& r) {
      return fmt::format(
          "{{\"games\":{},\"virtual_leaves\":{},\"avg_batch\":{:.2f},\"selfplay_positions_per_"
          "s\":{:.1f},"
          "\"selfplay_evals_per_s\":{:.1f},\"forward_batch\":{},\"forward_positions_per_s\":{:.1f},"
          "\"ratio\":{:.4f},\"cpu_share\":{:.3f}}}",
          r.games, r.virtual_leaves, r.avg_batch, r.positions_per_s, r.evals_per_s, r.forward_batch,
          r.forward_per_s, r.ratio, r.cpu_share);
    });
    out += fmt::format(
        "],\"tree\":{{\"games\":32,\"virtual_leaves\":8,\"sims_per_s\":{:.1f},\"bytes_per_node\":{:"
        ".2f},"
        "\"node_size\":{}}},\"weight_swap\":{{\"bytes\":{},\"load_blob_ms\":{:.3f},"
        "\"memcpy_ms\":{:.3f}}},\"forward_sweep\":[",
        tree.sims_per_s, tree.bytes_per_node, tree.node_size, swap.bytes, swap.load_ms,
        swap.memcpy_ms);
    out += format_join(sweep, ",", [](const std::pair<int, double>& b) {
      return fmt::format("{{\"batch\":{},\"positions_per_s\":{:.1f}}}", b.first, b.second);
    });
    out += fmt::format("],\"actor_vs_baseline\":{},\"actor_vs_baseline_small\":{}}}",
                       comparison_json(actor), comparison_json(small));
    std::puts(out.c_str());
    return 0;
  }
  fmt::print(
      "ringzero-bench-selfplay: connect4, network {}, 1 core (1 intra-op thread), "
      "{} simulations/move, {} s per figure\n",
      o.net.shape_string(), o.simulations, o.seconds);
  fmt::print("BLAS bound to LibTorch: {} ({})\n", blas.empty() ? "-" : blas, blas_kind(blas));
  fmt::print("topology: {}\n\n", topology);
  if (!o.actor_only) {
    fmt::print("{:>6} {:>6} {:>9} {:>15} {:>17} {:>24} {:>8} {:>9}\n", "games", "leaves",
               "avg batch", "selfplay pos/s", "selfplay evals/s", "raw forward pos/s @batch",
               "ratio", "cpu share");
    for (const Row& r : rows)
      fmt::print("{:>6} {:>6} {:>9.1f} {:>15.1f} {:>17.1f} {:>17.1f} @{:<5} {:>7.1f}% {:>8.0f}%\n",
                 r.games, r.virtual_leaves, r.avg_batch, r.positions_per_s, r.evals_per_s,
                 r.forward_per_s, r.forward_batch, 100 * r.ratio, 100 * r.cpu_share);
    fmt::print(
        "\ntree alone (uniform evaluator, 32 games): {:.0f} simulations/s, {:.1f} bytes/node "
        "(sizeof(Node) = {})\n",
        tree.sims_per_s, tree.bytes_per_node, tree.node_size);
    fmt::print(
        "weight swap (load_blob of a {}-byte blob): {:.3f} ms; memcpy of the same bytes: "
        "{:.3f} ms\n",
        swap.bytes, swap.load_ms, swap.memcpy_ms);
    if (!sweep.empty()) {
      fmt::print("raw forward positions/s by batch:");
      for (const auto& [b, rate] : sweep) fmt::print(" {}: {:.0f};", b, rate);
      fmt::print("\n");
    }
  }
  for (const ActorComparison* c : {&actor, &small})
    fmt::print(
        "actor vs baseline, {} {} simulations, {} games x {} leaves: actor default {:.1f} "
        "positions/s (cache {} MiB, hit rate {:.1f}%, {}), fp32 uncached {:.1f} positions/s: "
        "{:.2f}x (cpu share {:.0f}%)\n",
        c->network, c->simulations, c->games_in_flight, c->virtual_leaves, c->positions_per_s,
        c->eval_cache_mib, 100 * c->cache_hit_rate, c->precision_line, c->baseline_positions_per_s,
        c->speedup, 100 * c->cpu_share);
  fmt::print(
      "rates are per CPU-second of this process; cpu share = CPU/wall time during the\n"
      "self-play window (below ~95%: other processes shared the core, expect noise).\n"
      "ratio = selfplay evals/s / raw forward pos/s at the batch self-play formed\n");
  return 0;
}

}  // namespace
}  // namespace rz

int main(int argc, char** argv) {
  return rz::run_main("ringzero-bench-selfplay", [&] { return rz::run(argc, argv); });
}
