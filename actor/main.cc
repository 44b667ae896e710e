// ringzero-actor: plays self-play games with the newest weights and writes every finished
// game into its lane of the run's TrajectoryRing. See actor/actor.h for the whole story.
//
//   ringzero-actor --shm NAME --slot K --config RUN/config.ini [--section.option VALUE ...]
//
// Exit status: 0 after a clean stop (run stop flag, SIGTERM, SIGINT, the run's creator gone),
// 2 for a bad command line or configuration (rz::UserError), 1 for any other fatal problem
// (message on stderr, one line).
#include <fmt/format.h>

#include "actor/actor.h"
#include "common/config.h"
#include "common/error.h"
#include "common/role_process.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  std::atomic<uint32_t>& stop = rz::start_role_process();
  rz::RoleOptions role("actor", "ringzero-actor --shm NAME --slot K --config RUN/config.ini");
  role.flags.add_options()("slot", po::value<int>()->required()->value_name("K"),
                           "this actor's lane and stats slot, 0 <= K < lanes of the segment");
  po::variables_map flags;
  const rz::RunConfig config = rz::parse_config_or_exit(argc, argv, role, &flags);
  return rz::run_main("ringzero-actor", [&] {
    const int slot = flags["slot"].as<int>();
    if (slot < 0)
      throw rz::UserError(fmt::format("--slot {} is invalid: use an integer >= 0", slot));
    rz::Actor(config, static_cast<uint32_t>(slot), &stop).run();
    return 0;
  });
}
