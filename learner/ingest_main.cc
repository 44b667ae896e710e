// ringzero-ingest: the learner host's intake of remote records (learner/ingest.h,
// docs/scale-out.md). Started by the supervisor of a run started with --serve HOST:PORT:
//
//   ringzero-ingest --shm NAME --run-dir RUN --config RUN/config.ini --lane K
//
// K is the ingest's own lane (the one after the actors'). Torch-free.
#include <csignal>
#include <cstdio>
#include <exception>

#include "common/config.h"
#include "learner/ingest.h"
#include "shm/segment.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stderr, nullptr, _IOLBF, 0);
  rz::RoleOptions role("ingest",
                       "ringzero-ingest --shm NAME --run-dir RUN --config RUN/config.ini --lane K");
  role.flags.add_options()("lane", boost::program_options::value<int>()->required(),
                           "the ingest's lane in the ring");
  boost::program_options::variables_map flags;
  rz::RunConfig config = rz::parse_config_or_exit(argc, argv, role, &flags);
  try {
    if (config.run_dir.empty()) throw std::runtime_error("--run-dir is required");
    if (config.scale.serve.empty())
      throw std::runtime_error(
          "scale.serve is empty: the ingest runs only on a learner host "
          "started with --serve HOST:PORT");
    if (config.shm.name.empty()) config.shm.name = rz::default_shm_name(config.run_dir);
    auto segment = rz::shm::Segment::open(config.shm.name);
    return rz::run_ingest(*segment, config, static_cast<uint32_t>(flags["lane"].as<int>()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringzero-ingest: %s\n", e.what());
    return 1;
  }
}
