// ringzero-relay: an actor host's link to the learner host (actor/relay.h, docs/scale-out.md).
// Started by the supervisor of `launch.sh join`:
//
//   ringzero-relay --shm NAME --run-dir RUN --config RUN/config.ini
//
// Torch-free. Exit status 0 after a clean stop, 1 for a setup problem (one line on stderr).
#include <signal.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>

#include "actor/relay.h"
#include "common/config.h"
#include "shm/segment.h"

namespace {
std::atomic<uint32_t> interrupted{0};
extern "C" void on_stop(int) {
  interrupted.store(1, std::memory_order_relaxed);
}
}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stderr, nullptr, _IOLBF, 0);
  struct sigaction sa {};
  sa.sa_handler = on_stop;  // no SA_RESTART: a blocking wait returns and re-checks the flag
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  rz::RoleOptions role("relay", "ringzero-relay --shm NAME --run-dir RUN --config RUN/config.ini");
  rz::RunConfig config = rz::parse_config_or_exit(argc, argv, role);
  try {
    if (config.run_dir.empty()) throw std::runtime_error("--run-dir is required");
    if (config.scale.learner.empty())
      throw std::runtime_error(
          "scale.learner is empty: the relay runs only on an actor host "
          "started with launch.sh join --learner HOST:PORT");
    if (config.shm.name.empty()) config.shm.name = rz::default_shm_name(config.run_dir);
    auto segment = rz::shm::Segment::open(config.shm.name);
    return rz::run_relay(*segment, config, &interrupted);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringzero-relay: %s\n", e.what());
    return 1;
  }
}
