// ringzero-relay: an actor host's link to the learner host (actor/relay.h, docs/scale-out.md).
// Started by the supervisor of `launch.sh join`:
//
//   ringzero-relay --shm NAME --run-dir RUN --config RUN/config.ini
//
// Torch-free. It starts and stops like every role (common/role_process.h). Exit status 0 after
// a clean stop, 2 for a bad command line or configuration (rz::UserError), 1 for a setup
// problem (one line on stderr).
#include "actor/relay.h"
#include "common/config.h"
#include "common/error.h"
#include "common/role_process.h"

int main(int argc, char** argv) {
  std::atomic<uint32_t>& stop = rz::start_role_process();
  rz::RoleOptions role("relay", "ringzero-relay --shm NAME --run-dir RUN --config RUN/config.ini");
  rz::RunConfig config = rz::parse_config_or_exit(argc, argv, role);
  return rz::run_main("ringzero-relay", [&] {
    rz::require_run_dir(&config);
    return rz::run_relay(config, &stop);
  });
}
