// The whole path a user takes after training: a real ringzero-learner run (fed real
// self-play records through real shared memory, tests/learner/process_harness.h) writes
// metrics.csv and checkpoints; launch/plot.sh draws that metrics.csv and ringzero-play plays
// that run's newest checkpoint.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "common/checkpoint_file.h"
#include "shm/trajectory_ring.h"
#include "tests/learner/process_harness.h"
#include "tests/support/child_process.h"

using namespace rz;
using namespace rz::testing;

TEST_CASE("a real learner run: plot.sh draws its metrics, ringzero-play plays its checkpoint") {
  SegmentRun run("play-learner", "tictactoe", [](RunConfig& c) {
    c.learner.metrics_seconds = 0.2;  // several metrics rows in a run of a few seconds
  });
  {
    const auto game = make_game("tictactoe");
    const auto records = selfplay_records(*game, 200, 5);
    shm::LaneWriter lane0(*run.segment, 0), lane1(*run.segment, 1);
    for (size_t i = 0; i < records.size(); ++i)
      REQUIRE((i % 2 ? lane1 : lane0).write(records[i].data(), records[i].size()));
  }
  // 200 games give ~1250 positions: at samples_per_position 4 and batch 32 the rate limiter
  // allows ~156 steps before it waits for more data, so stop at 120.
  const pid_t pid =
      spawn(learner_argv(run, false, {"--learner.max_steps=120"}), run.dir + "/logs/learner.log");
  const int status = wait_exit(pid, 60s);
  INFO(read_file(run.dir + "/logs/learner.log"));
  REQUIRE(status == 0);
  REQUIRE(metrics_rows(run.dir + "/metrics.csv").size() >= 1);

  const auto plotted = run_child(
      {"/bin/bash", std::string(RZ_SOURCE_DIR) + "/launch/plot.sh", "--run-dir", run.dir}, "");
  INFO(plotted.out << plotted.err);
  REQUIRE(plotted.status == 0);
  for (const char* name : {"losses.png", "throughput.png", "versions.png"}) {
    std::ifstream png(run.dir + "/plots/" + name, std::ios::binary);
    std::string magic(8, '\0');
    REQUIRE(png.read(&magic[0], 8));
    CHECK(magic == std::string("\x89PNG\r\n\x1a\n", 8));
  }

  const CheckpointInfo newest = read_checkpoint(latest_valid_checkpoint(run.dir));
  CHECK(newest.step == 120);
  const auto played = run_child({RZ_BINARY_DIR "/common/play/ringzero-play", "--run-dir", run.dir,
                                 "--sims", "32", "--color", "second"},
                                "1\n2\n3\n4\n5\n6\n7\n8\n9\n1\n2\n3\n4\n5\n6\n7\n8\n9\n");
  INFO(played.out << played.err);
  REQUIRE(played.status == 0);
  CHECK_THAT(played.out, Catch::Contains(newest.path) &&
                             Catch::Contains("step 120, weight version " +
                                             std::to_string(newest.weight_version)));
  CHECK_THAT(played.out, Catch::Contains("Agent (first player) plays "));
  CHECK_THAT(played.out, Catch::Contains("Result: "));
}
