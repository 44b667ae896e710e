// ringzero-ingest: the learner host's intake of remote records (learner/ingest.h,
// docs/scale-out.md). Started by the supervisor of a run started with --serve HOST:PORT:
//
//   ringzero-ingest --shm NAME --run-dir RUN --config RUN/config.ini --lane K
//
// K is the ingest's own lane (the one after the actors'). Torch-free. It starts and stops like
// every role (common/role_process.h). Exit status 0 after a clean stop, 2 for a bad command
// line or configuration (rz::UserError), 1 for a setup problem (one line on stderr).
#include "common/config.h"
#include "common/error.h"
#include "common/role_process.h"
#include "learner/ingest.h"

int main(int argc, char** argv) {
  std::atomic<uint32_t>& stop = rz::start_role_process();
  rz::RoleOptions role("ingest",
                       "ringzero-ingest --shm NAME --run-dir RUN --config RUN/config.ini --lane K");
  role.flags.add_options()("lane", boost::program_options::value<int>()->required(),
                           "the ingest's lane in the ring");
  boost::program_options::variables_map flags;
  rz::RunConfig config = rz::parse_config_or_exit(argc, argv, role, &flags);
  const auto lane = static_cast<uint32_t>(flags["lane"].as<int>());
  return rz::run_main("ringzero-ingest", [&] {
    rz::require_run_dir(&config);
    return rz::run_ingest(config, lane, &stop);
  });
}
