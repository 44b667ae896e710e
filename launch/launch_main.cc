// ringzero-launch: starts, supervises, inspects and stops a training run.
// The user-facing entry point is launch/launch.sh, which builds first and then runs this.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "common/error.h"
#include "launch/commands.h"

namespace {

void print_usage() {
  std::printf(
      "usage: ringzero-launch <command> [options]   (each command takes --help)\n"
      "  start            start a training run (default command of launch/launch.sh)\n"
      "  join             join a learner host (start --serve) as an actor host\n"
      "  stop             stop a run cleanly (final checkpoint, no process or shm left)\n"
      "  status           show every process of a run\n"
      "  restart-learner  restart the learner from its checkpoint; actors keep playing\n"
      "  monitor          live table of a run (runs ringzero-monitor)\n");
}

}  // namespace

int main(int argc, char** argv) {
  // Everything a run writes (and its children inherit this) is private to the user: files
  // 0600, directories 0700, whatever the caller's umask. Modes are also given explicitly.
  ::umask(077);
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    print_usage();
    return argc < 2 ? rz::kExitUserError : 0;
  }
  const std::string command = argv[1];
  int rest_argc = argc - 2;
  char** rest = argv + 2;
  using namespace rz::launch;
  if (command == "start") return run_command([&] { return start_command(rest_argc, rest); });
  if (command == "join") return run_command([&] { return join_command(rest_argc, rest); });
  if (command == "stop") return run_command([&] { return stop_command(rest_argc, rest); });
  if (command == "status") return run_command([&] { return status_command(rest_argc, rest); });
  if (command == "restart-learner") {
    return run_command([&] { return restart_learner_command(rest_argc, rest); });
  }
  if (command == "monitor") return run_command([&] { return monitor_command(rest_argc, rest); });
  std::fprintf(stderr,
               "ringzero-launch: unknown command '%s'; use start, join, stop, status, "
               "restart-learner or monitor (see ringzero-launch --help)\n",
               command.c_str());
  return rz::kExitUserError;
}
