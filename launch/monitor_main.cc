// ringzero-monitor: a live table of a running run, read from its shared memory.
//
// Attaches READ-ONLY (it can never disturb the run), redraws every --interval seconds, and
// exits 0 when the run ends (stop flag set or supervisor gone). --once prints one snapshot;
// --json prints it as one JSON object (for scripts and tests).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "launch/run_dir.h"
#include "launch/run_snapshot.h"
#include "shm/segment.h"

namespace {

struct Args {
  std::string run_dir, shm;
  bool once = false, json = false;
  double interval_s = 1.0;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "ringzero-monitor: %s\n", message.c_str());
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: ringzero-monitor (--run-dir DIR | --shm NAME) [--once] [--json] [--interval S]\n"
          "Live table of a run: actors (state, games, positions/s, simulations/s, weights,\n"
          "heartbeat age), learner (step, losses, samples/s, replay, published version,\n"
          "device), ring lanes. Read-only; exits when the run ends. Ctrl-C to quit.\n");
      std::exit(0);
    } else if (arg == "--run-dir") {
      a.run_dir = next();
    } else if (arg == "--shm") {
      a.shm = next();
    } else if (arg == "--once") {
      a.once = true;
    } else if (arg == "--json") {
      a.json = true;
    } else if (arg == "--interval") {
      const std::string v = next();
      char* end = nullptr;
      a.interval_s = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end || !(a.interval_s >= 0.1 && a.interval_s <= 3600)) {
        usage_error("--interval must be between 0.1 and 3600 seconds, not '" + v + "'");
      }
    } else {
      usage_error("unknown argument '" + std::string(argv[i]) + "' (see ringzero-monitor --help)");
    }
  }
  if (a.run_dir.empty() && a.shm.empty()) usage_error("give --run-dir DIR (or --shm NAME)");
  return a;
}

std::string segment_name(const Args& a) {
  if (!a.shm.empty()) return a.shm;
  const rz::launch::RunDir dir(a.run_dir);
  const std::string name = rz::launch::read_shm_name(dir);
  if (name.empty()) {
    usage_error("no run in " + dir.path() + " (shm_name missing); start one with launch/launch.sh");
  }
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  const std::string name = segment_name(args);
  const std::string run_dir = args.run_dir.empty() ? "" : rz::launch::RunDir(args.run_dir).path();
  std::unique_ptr<rz::shm::Segment> segment;
  try {
    segment = rz::shm::Segment::open(name, /*read_only=*/true);
  } catch (const std::exception& e) {
    usage_error(
        fmt::format("the run is not running ({}); start it with launch/launch.sh start", e.what()));
  }
  const bool ansi = ::isatty(STDOUT_FILENO) && !args.json;
  rz::launch::RunSnapshot previous = rz::launch::take_snapshot(*segment, run_dir);
  if (args.once) {
    std::puts((args.json ? rz::launch::snapshot_json(previous)
                         : rz::launch::snapshot_table(previous, ansi))
                  .c_str());
    return 0;
  }
  for (;;) {
    std::this_thread::sleep_for(std::chrono::duration<double>(args.interval_s));
    rz::launch::RunSnapshot now = rz::launch::take_snapshot(*segment, run_dir);
    rz::launch::compute_rates(previous, &now);
    const std::string text =
        args.json ? rz::launch::snapshot_json(now) + "\n" : rz::launch::snapshot_table(now, ansi);
    if (ansi) std::fputs("\033[H\033[2J", stdout);  // home + clear: redraw in place
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    previous = std::move(now);
    if (previous.stop_requested || !previous.supervisor_alive) {
      std::printf("ringzero-monitor: the run %s; exiting\n",
                  previous.stop_requested ? "is stopping" : "has no supervisor any more");
      return 0;
    }
  }
}
