// The real ringzero-learner process, fed through real shared memory by LaneWriters in this
// test (records from real uniform-prior self-play, encoded as the actor encodes them):
// training and publication, bad records, SIGKILL + --resume without losing a record, and
// checkpoint fallback / refusal.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>

#include "common/checkpoint_file.h"
#include "learner/replay_window.h"
#include "shm/trajectory_ring.h"
#include "shm/weight_slot.h"
#include "tests/learner/process_harness.h"

using namespace rz;
using namespace rz::testing;

namespace {

const std::vector<std::vector<uint8_t>>& ttt_records() {
  return tictactoe_records(400, 99);
}

bool alive(pid_t pid) {
  int status;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

// Waits until the learner's step reaches `expected`, gives it a second to (wrongly) train past
// it, then stops it: whether it got there, the step after that second, how it ended.
struct StoppedAtStep {
  bool reached;
  uint64_t step_after_wait;
  Stopped stopped;
};
StoppedAtStep stop_after_step(const SegmentRun& run, pid_t pid, uint64_t expected) {
  const bool reached = wait_until([&] { return run.learner_metric("step") == expected; }, 40s);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  const uint64_t after_wait = run.learner_metric("step");
  return {reached, after_wait, stop_and_read(run, pid)};
}

}  // namespace

TEST_CASE("learner trains on ring records, publishes weights, checkpoints and writes metrics") {
  SegmentRun run("lp-train");
  {
    shm::LaneWriter lane0(*run.segment, 0), lane1(*run.segment, 1);
    for (size_t i = 0; i < 300; ++i) {
      auto& r = ttt_records()[i];
      REQUIRE((i % 2 ? lane1 : lane0).write(r.data(), r.size()));
    }
  }
  pid_t pid =
      spawn(learner_argv(run, false, {"--learner.max_steps=120"}), run.dir + "/logs/learner.log");
  int status = wait_exit(pid, 50s);
  INFO(read_file(run.dir + "/logs/learner.log"));
  REQUIRE(status == 0);
  CHECK(run.learner_metric("step") == 120);
  CHECK(run.learner_metric("records_consumed") == 300);
  CHECK(run.learner_metric("bad_records") == 0);
  CHECK(run.learner_metric("samples_trained") == 120 * 32);
  shm::WeightSlot slot(*run.segment);
  CHECK(slot.latest_version() == 1 + 120 / 10);  // initial + every 10 steps
  CHECK(run.learner_metric("published_version") == slot.latest_version());
  std::string latest = latest_valid_checkpoint(run.dir);
  REQUIRE_FALSE(latest.empty());
  CheckpointInfo info = read_checkpoint(latest);
  CHECK(info.step == 120);
  CHECK(info.game_spec == "tictactoe");
  CHECK(info.weight_version == slot.latest_version());
  std::vector<uint8_t> published;
  slot.read(&published);
  CHECK(published == info.weights);  // the checkpoint holds exactly the published weights
  CHECK(list_checkpoints(run.dir).size() == 3);  // 40, 80, 120 (keep 3)
  auto rows = metrics_rows(run.dir + "/metrics.csv");
  REQUIRE(rows.size() >= 1);
  CHECK(rows.back().size() == 14);
  CHECK(std::stoull(rows.back()[1]) == 120);
  ReplayCounts c =
      ReplayWindow::inspect(run.segment->learner_region(), run.segment->learner_region_bytes());
  CHECK(c.records_inserted == 300);
}

TEST_CASE("a malformed record in a lane is skipped and counted, the learner keeps running") {
  SegmentRun run("lp-bad");
  pid_t pid = spawn(learner_argv(run), run.dir + "/logs/learner.log");
  {
    shm::LaneWriter lane(*run.segment, 1);
    for (size_t i = 0; i < 20; ++i)
      REQUIRE(lane.write(ttt_records()[i].data(), ttt_records()[i].size()));
    std::vector<uint8_t> garbage(200);
    for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 31 + 5);
    REQUIRE(lane.write(garbage.data(), garbage.size()));
    auto truncated = ttt_records()[20];
    truncated.resize(truncated.size() / 2);
    REQUIRE(lane.write(truncated.data(), truncated.size()));
    auto flipped = ttt_records()[21];  // one flipped bit: the record checksum must catch it
    flipped[flipped.size() / 2] ^= 0x10;
    REQUIRE(lane.write(flipped.data(), flipped.size()));
    for (size_t i = 22; i < 42; ++i)
      REQUIRE(lane.write(ttt_records()[i].data(), ttt_records()[i].size()));
  }
  bool drained = wait_until(
      [&] {
        return run.learner_metric("records_consumed") == 40 &&
               run.learner_metric("bad_records") == 3;
      },
      30s);
  INFO(read_file(run.dir + "/logs/learner.log"));
  CHECK(drained);
  CHECK(alive(pid));
  // Still working after the bad records: it trains on the 40 good ones.
  CHECK(wait_until([&] { return run.learner_metric("step") > 0; }, 20s));
  CHECK(alive(pid));
  run.segment->control().request_stop();
  CHECK(wait_exit(pid, 20s) == 0);
  // Logged once per kind of problem: three damaged records, at most two kinds (all three fail
  // the record checksum; a decoder checking structure first could call one "truncated").
  std::string log = read_file(run.dir + "/logs/learner.log");
  size_t lines = 0;
  for (size_t at = log.find("skipping bad record"); at != std::string::npos;
       at = log.find("skipping bad record", at + 1))
    ++lines;
  CHECK(lines >= 1);
  CHECK(lines <= 2);
  ReplayCounts c =
      ReplayWindow::inspect(run.segment->learner_region(), run.segment->learner_region_bytes());
  CHECK(c.records_inserted == 40);
}

// Producers that write real records into their lanes, paced like actors, until stopped.
// Joined on destruction, so a failed REQUIRE never leaves a running thread behind.
struct Producers {
  Producers(shm::Segment& segment, int lanes) {
    for (int lane = 0; lane < lanes; ++lane)
      threads.emplace_back([this, &segment, lane] {
        shm::LaneWriter writer(segment, static_cast<uint32_t>(lane));
        const auto& records = ttt_records();
        for (size_t i = static_cast<size_t>(lane); !stop.load(); i += 2) {
          const auto& r = records[i % records.size()];
          if (!writer.write(r.data(), r.size(), &stop)) break;
          written.fetch_add(1);
          std::this_thread::sleep_for(std::chrono::milliseconds(4));
        }
      });
  }
  void finish() {
    stop.store(1);
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
  ~Producers() { finish(); }
  std::atomic<uint32_t> stop{0};
  std::atomic<uint64_t> written{0};
  std::vector<std::thread> threads;
};

TEST_CASE("a SIGKILLed learner resumes from its checkpoint and loses no committed record") {
  SegmentRun run("lp-kill", "tictactoe", [](RunConfig& c) {
    c.learner.replay_positions = 800;  // small: records also age out of the window
    c.learner.checkpoint_every = 20;
  });
  pid_t pid = spawn(learner_argv(run), run.dir + "/logs/learner.log");
  uint64_t total = 0;
  {
    Producers producers(*run.segment, 2);
    bool trained = wait_until([&] { return run.learner_metric("step") >= 45; }, 40s);
    uint64_t before_kill = producers.written.load();
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    // Records keep arriving with no learner for a moment.
    wait_until([&] { return producers.written.load() >= before_kill + 20; }, 10s);
    producers.finish();
    total = producers.written.load();
    INFO(read_file(run.dir + "/logs/learner.log"));
    REQUIRE(trained);
  }

  // With nothing running, every committed record is in the window (or aged out of it) or
  // still in its lane. A record may be in both (committed to the window, not yet released).
  {
    ReplayCounts c =
        ReplayWindow::inspect(run.segment->learner_region(), run.segment->learner_region_bytes());
    uint64_t committed = 0, in_both = 0;
    for (const auto& l : shm::lane_status(*run.segment)) {
      committed += l.records_committed;
      // Released records must all be in the window's books: nothing freed before insertion.
      CHECK(c.lane_next_sequence[l.lane] >= l.records_consumed);
      in_both += c.lane_next_sequence[l.lane] - l.records_consumed;
    }
    CHECK(committed == total);
    CHECK(records_in_lanes(*run.segment) >= 20);
    CHECK(in_both <= 1);
    CHECK(c.records_in_window + c.records_evicted == c.records_inserted);
    CHECK(c.records_inserted + records_in_lanes(*run.segment) - in_both == committed);
  }

  std::string ckpt = latest_valid_checkpoint(run.dir);
  REQUIRE_FALSE(ckpt.empty());
  uint64_t ckpt_step = read_checkpoint(ckpt).step;
  CHECK(ckpt_step >= 40);
  pid = spawn(learner_argv(run, true), run.dir + "/logs/learner.log");
  bool done;
  {
    // Games keep flowing into the resumed learner.
    Producers producers(*run.segment, 2);
    wait_until([&] { return producers.written.load() >= 100; }, 20s);
    producers.finish();
    total += producers.written.load();
    // It drains everything and keeps training past its checkpoint.
    done = wait_until(
        [&] {
          return records_in_lanes(*run.segment) == 0 && run.learner_metric("step") > ckpt_step + 10;
        },
        40s);
  }
  const auto [status, log] = stop_and_read(run, pid);
  INFO(log);
  CHECK(done);
  CHECK(status == 0);
  CHECK(log.find("resumed from " + ckpt + " (step " + std::to_string(ckpt_step)) !=
        std::string::npos);
  ReplayCounts c =
      ReplayWindow::inspect(run.segment->learner_region(), run.segment->learner_region_bytes());
  CHECK(c.records_inserted == total);  // every record exactly once: none lost, none doubled
  CHECK(c.records_evicted > 0);
  CHECK(c.records_in_window + c.records_evicted == total);
  CHECK(run.learner_metric("bad_records") == 0);
}

TEST_CASE("resume skips a corrupt newest checkpoint and refuses another game or network shape") {
  SegmentRun run("lp-ckpt", "tictactoe", [](RunConfig& c) { c.learner.checkpoint_every = 20; });
  write_records(*run.segment, 0, ttt_records(), 0, 200);
  train_steps(run, 60, "first.log", 40s);
  auto ckpts = list_checkpoints(run.dir);
  REQUIRE(ckpts.size() == 3);
  REQUIRE(ckpts.back() == checkpoint_path(run.dir, 60));

  // Corrupt the newest: one flipped byte in the middle.
  flip_middle_byte(ckpts.back());
  // A learner with another network shape refuses, one line, and changes nothing.
  std::vector<std::string> before;
  for (auto& p : ckpts) before.push_back(read_file(p));
  pid_t pid = spawn(learner_argv(run, true, {"--net.filters=8"}), run.dir + "/logs/shape.log");
  int status = wait_exit(pid, 30s);
  std::string shape_log = read_file(run.dir + "/logs/shape.log");
  INFO(shape_log);
  CHECK(status == 1);
  CHECK(shape_log.find("ringzero-learner: checkpoint " + ckpts[1] +
                       " holds a 1x16 network but the config says net 1x8") != std::string::npos);
  auto after = list_checkpoints(run.dir);
  REQUIRE(after == ckpts);
  for (size_t i = 0; i < ckpts.size(); ++i) CHECK(read_file(ckpts[i]) == before[i]);

  // The right config resumes from the newest VALID checkpoint (step 40), with a warning.
  pid = spawn(learner_argv(run, true, {"--learner.max_steps=70"}), run.dir + "/logs/resume.log");
  status = wait_exit(pid, 40s);
  std::string resume_log = read_file(run.dir + "/logs/resume.log");
  INFO(resume_log);
  CHECK(status == 0);
  CHECK(resume_log.find("warning: skipping checkpoint: checkpoint " + ckpts.back() +
                        " is corrupt") != std::string::npos);
  CHECK(resume_log.find("resumed from " + ckpts[1] + " (step 40") != std::string::npos);
  CHECK(read_checkpoint(latest_valid_checkpoint(run.dir)).step == 70);

  // A checkpoint of another game is refused by a learner of this game.
  SegmentRun other("lp-ckpt-c4", "connect4");
  ::mkdir(checkpoint_dir(other.dir).c_str(), 0755);
  std::string copied = checkpoint_path(other.dir, 40);
  std::ofstream(copied, std::ios::binary) << read_file(ckpts[1]);
  pid = spawn(learner_argv(other, true), other.dir + "/logs/game.log");
  status = wait_exit(pid, 30s);
  std::string game_log = read_file(other.dir + "/logs/game.log");
  INFO(game_log);
  CHECK(status == 1);
  CHECK(game_log.find("is for game 'tictactoe' but the config says 'connect4'") !=
        std::string::npos);
  CHECK(read_file(copied) == read_file(ckpts[1]));

  // Without --resume, a directory that holds checkpoints is refused rather than overwritten.
  pid = spawn(learner_argv(run), run.dir + "/logs/noresume.log");
  CHECK(wait_exit(pid, 30s) == 1);
  CHECK(read_file(run.dir + "/logs/noresume.log").find("pass --resume") != std::string::npos);
}

// launch.sh start --resume: the run directory and its checkpoints are old, the segment (ring,
// weight slot, stats, replay window) is new. The learner must train at its ratio on the new
// window's positions at once (it compared the checkpoint's cumulative samples with the new
// window's positions and stalled), and its weight versions must continue above the
// checkpoint's (the new slot starts at 0).
TEST_CASE(
    "after start --resume (new segment, old run directory) the learner trains at its ratio and "
    "versions keep growing") {
  SegmentRun run("lp-newseg", "tictactoe", [](RunConfig& c) { c.learner.checkpoint_every = 40; });
  write_records(*run.segment, 0, ttt_records(), 0, 300);
  train_steps(run, 120, "first.log", 50s);
  CheckpointInfo ckpt = read_checkpoint(latest_valid_checkpoint(run.dir));
  REQUIRE(ckpt.step == 120);
  REQUIRE(ckpt.weight_version == 13);

  // What `launch.sh start --resume` does: a new segment of the same geometry.
  shm::SegmentSizes sizes = run.segment->sizes();
  run.segment.reset();
  shm::Segment::remove(run.config.shm.name);
  run.segment = shm::Segment::create(run.config.shm.name, sizes, "resumed test run " + run.dir);
  // 40 new games: ~300 target positions, far fewer than 120 steps * 32 / 4 = 960.
  write_records(*run.segment, 0, ttt_records(), 300, 340);
  pid_t pid = spawn(learner_argv(run, true), run.dir + "/logs/learner.log");
  KillOnExit guard{&pid};
  REQUIRE(wait_until([&] { return run.learner_metric("records_consumed") == 40; }, 30s));
  const uint64_t targets = region_counts(run).targets_inserted;
  REQUIRE(targets >= 64);  // min_replay
  // R = 4 samples per target position, batches of 32: exactly floor(4 T / 32) steps.
  const uint64_t new_steps = 4 * targets / 32;
  const uint64_t expected = ckpt.step + new_steps;
  const auto [reached, after_wait, stopped] = stop_after_step(run, pid, expected);
  const std::string& log = stopped.log;
  INFO(log);
  INFO("targets " << targets << ", step " << after_wait << ", expected " << expected);
  CHECK(reached);
  CHECK(after_wait == expected);  // and no further: the ratio holds on the new window
  CHECK(stopped.status == 0);
  CHECK(region_counts(run).samples_trained == new_steps * 32);
  // Versions: the first publish of the resumed learner is above the checkpoint's (and above
  // every version reserved before it: learner/version_floor.h), never 1.
  const std::string started = "published starting weights as version ";
  const size_t at = log.rfind(started);
  REQUIRE(at != std::string::npos);
  CHECK(std::stoull(log.substr(at + started.size())) > ckpt.weight_version);
  shm::WeightSlot slot(*run.segment);
  CHECK(slot.latest_version() > ckpt.weight_version + 1);
  CheckpointInfo last = read_checkpoint(latest_valid_checkpoint(run.dir));
  CHECK(last.step == expected);
  CHECK(last.weight_version == slot.latest_version());
}

// restart-learner: same segment, the window survives. The restarted learner continues the
// window's own sample count: it trains what the ratio still allows on the surviving window
// (no stall waiting for new games), then stops (no over-training of old positions), and its
// versions continue above the killed learner's.
TEST_CASE(
    "a learner restarted in the same segment continues the window's sample budget and versions") {
  SegmentRun run("lp-samesegment", "tictactoe",
                 [](RunConfig& c) { c.learner.checkpoint_every = 20; });
  write_records(*run.segment, 0, ttt_records(), 0, 150);
  pid_t pid = spawn(learner_argv(run), run.dir + "/logs/learner.log");
  KillOnExit guard{&pid};
  bool trained = wait_until([&] { return run.learner_metric("step") >= 50; }, 40s);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  INFO(read_file(run.dir + "/logs/learner.log"));
  REQUIRE(trained);
  const ReplayCounts killed = region_counts(run);
  REQUIRE(killed.records_inserted == 150);
  const uint64_t killed_version = shm::WeightSlot(*run.segment).latest_version();
  const uint64_t ckpt_step = read_checkpoint(latest_valid_checkpoint(run.dir)).step;
  REQUIRE(ckpt_step >= 40);
  // Budget of this window: floor(4 T / 32) steps in all; the killed learner used
  // killed.samples_trained / 32 of them (including the ones after its checkpoint).
  const uint64_t budget_steps = 4 * killed.targets_inserted / 32;
  REQUIRE(killed.samples_trained % 32 == 0);
  REQUIRE(budget_steps > killed.samples_trained / 32 + 5);
  const uint64_t expected = ckpt_step + budget_steps - killed.samples_trained / 32;

  pid = spawn(learner_argv(run, true), run.dir + "/logs/learner.log");
  const auto [reached, after_wait, stopped] = stop_after_step(run, pid, expected);
  const std::string& log = stopped.log;
  INFO(log);
  INFO("step " << after_wait << ", expected " << expected);
  CHECK(reached);
  CHECK(after_wait == expected);
  CHECK(stopped.status == 0);
  CHECK(region_counts(run).samples_trained == budget_steps * 32);
  CHECK(log.find("published starting weights as version " + std::to_string(killed_version + 1) +
                 "\n") != std::string::npos);
}

// The supervisor reads the learner's output through a pipe: every line must arrive when it
// is printed, not when a 4 KiB stdio buffer fills or the process exits.
TEST_CASE("the learner's output reaches a pipe line by line while it runs") {
  SegmentRun run("lp-pipe", "tictactoe", [](RunConfig& c) {
    c.learner.checkpoint_every = 20;
    c.learner.metrics_seconds = 1000;  // no periodic report (which flushes) during the test
  });
  write_records(*run.segment, 0, ttt_records(), 0, 100);
  const std::string fifo = run.dir + "/learner.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Reader end first (non-blocking), so that the child's open for writing does not block.
  int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(fd >= 0);
  pid_t pid = spawn(learner_argv(run), fifo);
  KillOnExit guard{&pid};
  std::string out;
  auto read_available = [&] {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  };
  // A checkpoint file on disk means its "checkpoint ..." line was printed just after.
  bool line_seen = wait_until(
      [&] {
        read_available();
        return out.find("checkpoint " + checkpoint_dir(run.dir)) != std::string::npos;
      },
      40s);
  bool still_running = alive(pid);
  run.segment->control().request_stop();
  int status = wait_exit(pid, 20s);
  read_available();
  ::close(fd);
  INFO(out);
  CHECK(line_seen);
  CHECK(still_running);
  CHECK(status == 0);
  CHECK(out.find("published starting weights as version 1\n") != std::string::npos);
}
