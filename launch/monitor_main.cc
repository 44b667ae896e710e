// ringzero-monitor: a live table of a running run, read from its shared memory.
//
// Attaches READ-ONLY (it can never disturb the run), redraws every --interval seconds, and
// exits 0 when the run ends (stop flag set or supervisor gone). --once prints one snapshot;
// --json prints it as one JSON object (for scripts and tests).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "common/command_line.h"
#include "common/text_parse.h"
#include "launch/command_support.h"
#include "launch/run_dir.h"
#include "launch/run_snapshot.h"
#include "shm/segment.h"

namespace {

using rz::launch::UsageError;

struct Args {
  std::string run_dir, shm;
  bool once = false, json = false;
  double interval_s = 1.0;
};

// The command line; std::nullopt after printing the help for --help. Throws UsageError.
std::optional<Args> parse(int argc, char** argv) {
  Args a;
  for (rz::ArgCursor arg(argc, argv, 1); arg.next();) {
    if (arg.name() == "--help" || arg.name() == "-h") {
      std::printf(
          "usage: ringzero-monitor (--run-dir DIR | --shm NAME) [--once] [--json] [--interval S]\n"
          "Live table of a run: actors (state, games, positions/s, simulations/s, weights,\n"
          "heartbeat age), learner (step, losses, samples/s, replay, published version,\n"
          "device), ring lanes. Read-only; exits when the run ends. Ctrl-C to quit.\n");
      return std::nullopt;
    } else if (arg.name() == "--run-dir") {
      a.run_dir = arg.value();
    } else if (arg.name() == "--shm") {
      a.shm = arg.value();
    } else if (arg.name() == "--once") {
      a.once = true;
    } else if (arg.name() == "--json") {
      a.json = true;
    } else if (arg.name() == "--interval") {
      const std::string v = arg.value();
      if (!rz::parse_double(v, &a.interval_s) || !(a.interval_s >= 0.1 && a.interval_s <= 3600))
        throw UsageError("--interval must be between 0.1 and 3600 seconds, not '" + v + "'");
    } else {
      throw UsageError("unknown argument '" + arg.raw() + "' (see ringzero-monitor --help)");
    }
  }
  if (a.run_dir.empty() && a.shm.empty()) throw UsageError("give --run-dir DIR (or --shm NAME)");
  return a;
}

std::string segment_name(const Args& a) {
  if (!a.shm.empty()) return a.shm;
  const rz::launch::RunDir dir(a.run_dir);
  const std::string name = rz::launch::read_shm_name(dir);
  if (name.empty()) {
    throw UsageError("no run in " + dir.path() +
                     " (shm_name missing); start one with launch/launch.sh");
  }
  return name;
}

int monitor(int argc, char** argv) {
  const std::optional<Args> parsed = parse(argc, argv);
  if (!parsed) return 0;
  const Args& args = *parsed;
  const std::string name = segment_name(args);
  const std::string run_dir = args.run_dir.empty() ? "" : rz::launch::RunDir(args.run_dir).path();
  std::unique_ptr<rz::shm::Segment> segment;
  try {
    segment = rz::shm::Segment::open(name, /*read_only=*/true);
  } catch (const std::exception& e) {
    throw UsageError(
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

}  // namespace

// Exit status: 0 when the run ends or after --once, 2 for bad input (and a run that is not
// running), 1 for anything else.
int main(int argc, char** argv) {
  return rz::run_main("ringzero-monitor", [&] { return monitor(argc, argv); });
}
