// ringzero-actor: plays self-play games with the newest weights and writes every finished
// game into its lane of the run's TrajectoryRing. See actor/actor.h for the whole story.
//
//   ringzero-actor --shm NAME --slot K --config RUN/config.ini [--section.option VALUE ...]
//
// Exit status: 0 after a clean stop (run stop flag, SIGTERM, SIGINT), 2 for a bad command
// line or configuration, 1 for any other fatal problem (message on stderr, one line).
#include <csignal>
#include <cstdio>

#include "actor/actor.h"
#include "common/config.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  // A closed reader of our output (a dead supervisor's pipe) must cost a lost line (EPIPE),
  // not the process (SIGPIPE) while it finishes its games and stops.
  std::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // line-buffered into the supervisor's pipe
  std::setvbuf(stderr, nullptr, _IOLBF, 0);
  static std::atomic<uint32_t> interrupted{0};
  rz::install_stop_signal_handlers(&interrupted);

  rz::RoleOptions role("actor", "ringzero-actor --shm NAME --slot K --config RUN/config.ini");
  role.flags.add_options()("slot", po::value<int>()->required()->value_name("K"),
                           "this actor's lane and stats slot, 0 <= K < lanes of the segment");
  po::variables_map flags;
  const rz::RunConfig config = rz::parse_config_or_exit(argc, argv, role, &flags);

  const int slot = flags["slot"].as<int>();
  if (slot < 0) {
    std::fprintf(stderr, "ringzero-actor: --slot %d is invalid: use an integer >= 0\n", slot);
    return 2;
  }
  try {
    rz::Actor(config, static_cast<uint32_t>(slot), &interrupted).run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringzero-actor: %s\n", e.what());
    return 1;
  }
  return 0;
}
