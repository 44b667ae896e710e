// ringzero-bench-solver: how fast the Connect Four solver proves Pons' benchmark sets, beside
// the mean times Pons published for his own solver (the reference for these very files).
// Every score is checked against the file: a wrong answer makes the run fail.
//
//   ringzero-bench-solver [--data DIR] [--limit N] [--json] [--tt-log2 23] [FILE...]
#include <fmt/format.h>

#include <time.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/solver/connect4_solver.h"
#include "common/solver/position_file.h"

namespace {

struct BenchSet {
  const char* file;
  const char* label;
  double published_us;  // Pons' final solver, mean per position (data README)
};
constexpr BenchSet kSets[] = {{"Test_L3_R1", "end-easy", 4.6},
                              {"Test_L2_R1", "middle-easy", 37.0},
                              {"Test_L2_R2", "middle-medium", 3200.0},
                              {"Test_L1_R1", "opening-easy", 255.0}};

// CPU time of this process: on a shared machine it shows the solver's own cost even when
// the wall clock includes waiting for a core.
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// A bad command line: "ringzero-bench-solver: <message> (see --help)", exit 2 (run_main).
[[noreturn]] void usage_error(const std::string& message) {
  throw rz::UserError(message);
}

int parse_positive(const char* option, const char* text) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (!*text || *end || v <= 0 || v > 1000000)
    usage_error(fmt::format("{} needs a positive integer, not '{}'", option, text));
  return static_cast<int>(v);
}

int run(int argc, char** argv) {
  std::string data_dir = RZ_DEFAULT_CONNECT4_DATA;
  int limit = 0, tt_log2 = 23;
  bool json = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      fmt::print(
          "usage: ringzero-bench-solver [--data DIR] [--limit N] [--json] [--tt-log2 K] "
          "[FILE...]\n"
          "Solves each position of Pons' Connect Four sets (default: the four files in DIR,\n"
          "default {}), checks every score, and prints mean time and nodes per position\n"
          "beside Pons' published mean time. --limit N takes the first N positions per file;\n"
          "--tt-log2 K sizes the transposition table at 2^K entries (default 23).\n",
          RZ_DEFAULT_CONNECT4_DATA);
      return 0;
    } else if (arg == "--data") {
      data_dir = value();
    } else if (arg == "--limit") {
      limit = parse_positive("--limit", value());
    } else if (arg == "--tt-log2") {
      tt_log2 = parse_positive("--tt-log2", value());
      if (tt_log2 < 18 || tt_log2 > 30) usage_error("--tt-log2 must be in 18..30");
    } else if (arg == "--json") {
      json = true;
    } else if (!arg.empty() && arg[0] == '-') {
      usage_error(fmt::format("unknown option '{}'", arg));
    } else {
      files.push_back(arg);
    }
  }

  struct Row {
    std::string name, label;
    double published_us;
    size_t positions = 0;
    double mean_us = 0, mean_cpu_us = 0, mean_nodes = 0, knodes_per_s = 0;
    int wrong = 0;
  };
  std::vector<Row> rows;
  if (files.empty()) {
    for (const auto& s : kSets) rows.push_back({s.file, s.label, s.published_us});
  } else {
    for (const auto& f : files) rows.push_back({f, "", 0.0});
  }

  rz::Connect4Solver solver(tt_log2);
  int total_wrong = 0;
  for (auto& row : rows) {
    const std::string path = files.empty() ? data_dir + "/" + row.name : row.name;
    std::vector<rz::PositionLine> lines;
    try {
      lines = rz::read_position_file(path, /*require_score=*/true);
    } catch (const rz::SolverError& e) {
      fmt::print(stderr, "ringzero-bench-solver: {}\n", e.what());
      return 1;
    }
    if (limit > 0 && lines.size() > static_cast<size_t>(limit)) lines.resize(limit);
    // The table is kept across positions, as in Pons' benchmark; cleared between files so
    // each figure stands alone.
    solver.reset();
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    for (const auto& line : lines) {
      const int score = solver.solve(rz::parse_connect4_moves(line.moves));
      if (score != *line.score) {
        ++row.wrong;
        fmt::print(stderr, "WRONG {}:{}: '{}' solved {} expected {}\n", path, line.line_number,
                   line.moves, score, *line.score);
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = cpu_seconds() - cpu_start;
    row.positions = lines.size();
    if (!lines.empty()) {
      row.mean_us = seconds * 1e6 / lines.size();
      row.mean_cpu_us = cpu * 1e6 / lines.size();
      row.mean_nodes = static_cast<double>(solver.nodes()) / lines.size();
      row.knodes_per_s = seconds > 0 ? solver.nodes() / seconds / 1e3 : 0;
    }
    total_wrong += row.wrong;
  }

  if (json) {
    fmt::print("[");
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      fmt::print(
          "{}{{\"file\": \"{}\", \"set\": \"{}\", \"positions\": {}, \"mean_us\": {:.2f}, "
          "\"mean_cpu_us\": {:.2f}, "
          "\"mean_nodes\": {:.1f}, \"knodes_per_s\": {:.0f}, \"published_mean_us\": {}, "
          "\"wrong\": {}}}",
          i ? ",\n " : "", r.name, r.label, r.positions, r.mean_us, r.mean_cpu_us, r.mean_nodes,
          r.knodes_per_s, r.published_us, r.wrong);
    }
    fmt::print("]\n");
  } else {
    fmt::print("{:<12} {:<14} {:>9} {:>12} {:>12} {:>12} {:>10} {:>16} {:>6}\n", "file", "set",
               "positions", "mean time", "mean CPU", "mean nodes", "knodes/s", "Pons published",
               "wrong");
    for (const auto& r : rows)
      fmt::print(
          "{:<12} {:<14} {:>9} {:>9.1f} us {:>9.1f} us {:>12.1f} {:>10.0f} {:>13} us {:>6}\n",
          r.name, r.label, r.positions, r.mean_us, r.mean_cpu_us, r.mean_nodes, r.knodes_per_s,
          r.published_us > 0 ? fmt::format("{:.1f}", r.published_us) : "-", r.wrong);
  }
  return total_wrong == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return rz::run_main(
      "ringzero-bench-solver", [&] { return run(argc, argv); }, "see --help");
}
