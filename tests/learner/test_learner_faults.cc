// The real ringzero-learner process when things around it fail: its output's reader vanishes
// (the supervisor SIGKILLed), the disk refuses checkpoint bytes, the checkpoints on disk are
// damaged or missing at --resume. Real processes, real shared memory, real files; the
// failures are made with real mechanisms (a closed pipe, RLIMIT_FSIZE, flipped bytes).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <thread>

#include "common/checkpoint_file.h"
#include "learner/replay_window.h"
#include "shm/trajectory_ring.h"
#include "shm/weight_slot.h"
#include "tests/learner/process_harness.h"

using namespace rz;
using namespace rz::testing;

namespace {

const std::vector<std::vector<uint8_t>>& ttt_records() {
  return tictactoe_records(200, 41);
}

// The learner as the supervisor starts it (SIGPIPE at its default action), stdout and stderr
// into `out_fd`. With `fsize_limit`, files cannot grow past it and SIGXFSZ is ignored, so a
// write past it fails with EFBIG: a full disk, for this process only.
pid_t spawn_learner(const std::vector<std::string>& argv, int out_fd,
                    rlim_t fsize_limit = RLIM_INFINITY) {
  ChildSetup setup;
  setup.stdout_fd = setup.stderr_fd = out_fd;
  setup.fsize_limit = fsize_limit;
  return start_child(argv, setup);
}

// Every name in RUN/checkpoints (checkpoints, tmp files, set-aside files), sorted.
std::set<std::string> dir_names(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    names.insert(e.path().filename().string());
  return names;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

// The supervisor is SIGKILLed: the learner gets SIGTERM (PDEATHSIG) and its output pipe has no
// reader. Its shutdown must still write the final checkpoint and exit 0, not die of SIGPIPE
// on the first line it prints.
TEST_CASE(
    "with its output pipe's reader gone, SIGTERM still ends the learner with a final checkpoint") {
  SegmentRun run("lf-pipe", "tictactoe", [](RunConfig& c) {
    c.learner.checkpoint_every = 1000000;  // only the shutdown writes a checkpoint
    c.learner.metrics_seconds = 1000;      // no periodic report: nothing printed mid-run
  });
  write_records(*run.segment, 0, ttt_records(), 0, 100);
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  pid_t pid = spawn_learner(learner_argv(run), fds[1]);
  KillOnExit guard{&pid};
  ::close(fds[1]);
  bool trained = wait_until([&] { return run.learner_metric("step") >= 10; }, 30s);
  ::close(fds[0]);  // the supervisor is gone
  ::kill(pid, SIGTERM);
  int status = wait_exit(pid, 20s);
  REQUIRE(trained);
  CHECK(status == 0);  // -13 (SIGPIPE) without the fix
  const uint64_t last_step = run.learner_metric("step");
  const std::string latest = latest_valid_checkpoint(run.dir);
  REQUIRE_FALSE(latest.empty());
  CHECK(read_checkpoint(latest).step == last_step);
  CHECK(read_checkpoint(latest).weight_version == shm::WeightSlot(*run.segment).latest_version());
}

// A full disk: every checkpoint write fails. The learner says so with the fix, keeps training
// and retries each interval (writing as soon as the disk has room again); previous
// checkpoints stay intact and no tmp file is left. Only a final checkpoint that cannot be
// written makes it exit non-zero.
TEST_CASE(
    "checkpoints that cannot be written (disk full) are logged with the fix while training "
    "continues") {
  SegmentRun run("lf-full", "tictactoe", [](RunConfig& c) { c.learner.checkpoint_every = 20; });
  const std::string ckpt_dir = checkpoint_dir(run.dir);
  write_records(*run.segment, 0, ttt_records(), 0, 100);
  train_steps(run, 20);
  const std::string ckpt20 = checkpoint_path(run.dir, 20);
  const std::string ckpt20_bytes = read_file(ckpt20);
  constexpr rlim_t kLimit = 16 << 10;
  REQUIRE(ckpt20_bytes.size() > kLimit);  // so a checkpoint cannot fit under the limit

  const std::string log_path = run.dir + "/logs/learner.log";
  const int log_fd = open_log(log_path);
  pid_t pid = spawn_learner(learner_argv(run, true), log_fd, kLimit);
  ::close(log_fd);
  KillOnExit guard{&pid};
  const std::string failed_40 = "checkpoint at step 40 not written: cannot write checkpoint " +
                                checkpoint_path(run.dir, 40) + ": write failed: File too large";
  bool kept_training = wait_until(
      [&] {
        return read_file(log_path).find(failed_40) != std::string::npos &&
               run.learner_metric("step") > 60;
      },
      30s);
  const bool alive = ::waitpid(pid, nullptr, WNOHANG) == 0;
  {
    std::string log = read_file(log_path);
    INFO(log);
    REQUIRE(kept_training);
    REQUIRE(alive);
    CHECK(log.find(failed_40 + "; free space in " + ckpt_dir + " (training continues") !=
          std::string::npos);
    CHECK(log.find("checkpoint at step 60 not written") != std::string::npos);  // retried
  }
  // The previous checkpoint intact and alone: no tmp file, nothing half-written.
  CHECK(dir_names(ckpt_dir) ==
        std::set<std::string>{"ckpt-0000000020.rzck", "lock", "weight_version"});
  CHECK(read_file(ckpt20) == ckpt20_bytes);

  // Room again: the next interval writes (more games, so that there is a next interval).
  rlimit room{};
  REQUIRE(::prlimit(pid, RLIMIT_FSIZE, nullptr, &room) == 0);
  REQUIRE(room.rlim_cur == kLimit);
  room.rlim_cur = room.rlim_max;
  REQUIRE(::prlimit(pid, RLIMIT_FSIZE, &room, nullptr) == 0);
  const uint64_t step_at_room = run.learner_metric("step");
  write_records(*run.segment, 0, ttt_records(), 100, 200);
  bool written = wait_until(
      [&] {
        auto paths = list_checkpoints(run.dir);
        return !paths.empty() && read_checkpoint(paths.back()).step > step_at_room;
      },
      30s);
  CHECK(written);

  // Full again at shutdown: the final checkpoint fails, said in one line, exit status 1.
  rlimit full{kLimit, room.rlim_max};
  REQUIRE(::prlimit(pid, RLIMIT_FSIZE, &full, nullptr) == 0);
  const auto before_stop = dir_names(ckpt_dir);
  const auto [status, log] = stop_and_read(run, pid);
  INFO(log);
  CHECK(status == 1);
  CHECK(count_of(log, "final checkpoint at step ") == 1);
  CHECK(log.find("not written: cannot write checkpoint ") != std::string::npos);
  CHECK(log.find("; free space in " + ckpt_dir + ", then resume") != std::string::npos);
  CHECK(dir_names(ckpt_dir) == before_stop);
}

// --resume when every checkpoint file is damaged: refuse in one line naming the files and the
// fix, exit non-zero, and change nothing (files, segment, metrics), instead of starting over
// from fresh weights and later overwriting the damaged file's name.
TEST_CASE("a resume refuses when no checkpoint file is valid, changing nothing") {
  SegmentRun run("lf-allbad", "tictactoe", [](RunConfig& c) { c.learner.checkpoint_every = 20; });
  write_records(*run.segment, 0, ttt_records(), 0, 60);
  train_steps(run, 20);
  const std::string ckpt = checkpoint_path(run.dir, 20);
  REQUIRE(list_checkpoints(run.dir) == std::vector<std::string>{ckpt});
  flip_middle_byte(ckpt);
  // Games waiting in the ring: they must stay there.
  write_records(*run.segment, 0, ttt_records(), 60, 70);

  const std::string ckpt_bytes = read_file(ckpt);
  const auto names = dir_names(checkpoint_dir(run.dir));
  const std::string metrics = read_file(run.dir + "/metrics.csv");
  const ReplayCounts window = region_counts(run);
  const uint64_t version = shm::WeightSlot(*run.segment).latest_version();

  const pid_t pid = spawn(learner_argv(run, true), run.dir + "/logs/resume.log");
  int status = wait_exit(pid, 20s);
  std::string log = read_file(run.dir + "/logs/resume.log");
  INFO(log);
  CHECK(status == 1);
  CHECK(log == "ringzero-learner: no valid checkpoint among 1 file(s) in " +
                   checkpoint_dir(run.dir) + " (newest: checkpoint " + ckpt +
                   " is corrupt (checksum mismatch)): restore a good checkpoint or start a new "
                   "run without --resume\n");
  CHECK(read_file(ckpt) == ckpt_bytes);
  CHECK(dir_names(checkpoint_dir(run.dir)) == names);
  CHECK(read_file(run.dir + "/metrics.csv") == metrics);
  CHECK(region_counts(run).records_inserted == window.records_inserted);
  CHECK(shm::WeightSlot(*run.segment).latest_version() == version);
  CHECK(records_in_lanes(*run.segment) == 10);
}

// A learner killed before its first checkpoint (early in a run), restarted with --resume:
// fresh weights are right, but the replay window in the segment is kept (no game lost), and
// the log says so in one line.
TEST_CASE("a resume with no checkpoint yet starts fresh weights on the kept replay window") {
  SegmentRun run("lf-nockpt", "tictactoe", [](RunConfig& c) {
    c.learner.checkpoint_every = 1000000;  // killed before any checkpoint
  });
  write_records(*run.segment, 0, ttt_records(), 0, 60);
  pid_t pid = spawn(learner_argv(run), run.dir + "/logs/learner.log");
  KillOnExit guard{&pid};
  bool drained = wait_until([&] { return run.learner_metric("records_consumed") == 60; }, 30s);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  REQUIRE(drained);
  REQUIRE(list_checkpoints(run.dir).empty());
  const ReplayCounts killed = region_counts(run);
  REQUIRE(killed.records_inserted == 60);

  pid = spawn(learner_argv(run, true), run.dir + "/logs/learner.log");
  write_records(*run.segment, 1, ttt_records(), 60, 80);
  bool consumed = wait_until([&] { return records_in_lanes(*run.segment) == 0; }, 30s);
  const auto [status, log] = stop_and_read(run, pid);
  INFO(log);
  CHECK(consumed);
  CHECK(status == 0);
  CHECK(count_of(log, "--resume: no checkpoint in " + checkpoint_dir(run.dir) +
                          " yet; starting from fresh weights at step 0 with the segment's "
                          "replay window kept (" +
                          std::to_string(killed.positions_in_window) + " positions, 60 records)") ==
        1);
  CHECK(region_counts(run).records_inserted == 80);  // the 60 before the kill + 20 after
}

// A damaged checkpoint newer than the one resumed from is set aside (renamed *.corrupt, bytes
// kept), so the new checkpoint of its step does not overwrite it and pruning does not count it.
TEST_CASE("a damaged newer checkpoint is set aside at resume, never overwritten or pruned") {
  SegmentRun run("lf-aside", "tictactoe", [](RunConfig& c) { c.learner.checkpoint_every = 20; });
  write_records(*run.segment, 0, ttt_records(), 0, 150);
  train_steps(run, 60);
  const std::string ckpt60 = checkpoint_path(run.dir, 60);
  flip_middle_byte(ckpt60);
  const std::string damaged = read_file(ckpt60);

  const pid_t pid =
      spawn(learner_argv(run, true, {"--learner.max_steps=100"}), run.dir + "/logs/resume.log");
  int status = wait_exit(pid, 30s);
  std::string log = read_file(run.dir + "/logs/resume.log");
  INFO(log);
  CHECK(status == 0);
  CHECK(log.find("resumed from " + checkpoint_path(run.dir, 40) + " (step 40") !=
        std::string::npos);
  CHECK(log.find("warning: skipping checkpoint: checkpoint " + ckpt60 +
                 " is corrupt (checksum mismatch); kept as " + ckpt60 + ".corrupt\n") !=
        std::string::npos);
  CHECK(read_file(ckpt60 + ".corrupt") == damaged);
  CHECK(read_checkpoint(ckpt60).step == 60);  // the new one, valid
  // keep_checkpoints = 3 counts real checkpoints only.
  CHECK(list_checkpoints(run.dir) == std::vector<std::string>{ckpt60, checkpoint_path(run.dir, 80),
                                                              checkpoint_path(run.dir, 100)});
  CHECK(dir_names(checkpoint_dir(run.dir)).count("ckpt-0000000060.rzck.corrupt") == 1);
}

// The supervisor stamps every line of a child's output with time and role; the learner's own
// lines carry no second "learner: " prefix. A report of an interval without a step says "-"
// for the losses, not a perfect-looking 0.0000.
TEST_CASE("learner log lines carry no role prefix and an idle report shows no loss") {
  SegmentRun run("lf-lines", "tictactoe", [](RunConfig& c) { c.learner.metrics_seconds = 0.2; });
  pid_t pid = spawn(learner_argv(run), run.dir + "/logs/learner.log");
  KillOnExit guard{&pid};
  bool reported = wait_until(
      [&] {
        return read_file(run.dir + "/logs/learner.log").find("step 0 loss") != std::string::npos;
      },
      30s);
  const auto [status, log] = stop_and_read(run, pid);
  INFO(log);
  CHECK(reported);
  CHECK(status == 0);
  CHECK(log.find("step 0 loss - (policy - value -) replay 0 ") != std::string::npos);
  CHECK(log.find("loss 0.0000") == std::string::npos);
  std::istringstream lines(log);
  std::string line;
  size_t n = 0;
  while (std::getline(lines, line)) {
    ++n;
    CHECK(line.rfind("learner:", 0) == std::string::npos);
  }
  CHECK(n >= 3);
}

// learner.device (issue #12): `auto` says which device it picked and why; `cuda` or `cuda:N`
// without that GPU ends the learner at start-up with one line naming the fix, before it takes
// a record from the ring or publishes weights: never a run that silently trains on the CPU.
TEST_CASE(
    "learner.device=cuda without a usable GPU is one line at start-up - auto says it trains on the "
    "CPU") {
  SegmentRun run("lf-device", "tictactoe", [](RunConfig& c) { c.learner.device = "auto"; });
  write_records(*run.segment, 0, ttt_records(), 0, 60);
  train_steps(run, 5, "auto.log");
  std::string log = read_file(run.dir + "/logs/auto.log");
  INFO(log);
  REQUIRE(log.find("learner.device=auto: ") != std::string::npos);
  if (log.find("learner.device=auto: CUDA is available, training on cuda:0") != std::string::npos) {
    WARN("this machine has a usable GPU: the no-GPU start-up error cannot be checked here");
    return;
  }
  CHECK(log.find(", training on the CPU") != std::string::npos);
  CHECK(log.find("device cpu") != std::string::npos);

  SegmentRun fresh("lf-device-cuda", "tictactoe");
  write_records(*fresh.segment, 0, ttt_records(), 0, 10);
  for (const std::string device : {"cuda", "cuda:3"}) {
    const std::string path = fresh.dir + "/logs/" + device + ".log";
    const pid_t pid = spawn(learner_argv(fresh, false, {"--learner.device=" + device}), path);
    const int status = wait_exit(pid, 30s);
    log = read_file(path);
    INFO(log);
    CHECK(status == 1);
    CHECK(log.rfind("ringzero-learner: learner.device=" + device + " but ", 0) == 0);
    CHECK(log.find("learner.device=cpu or auto") != std::string::npos);
    CHECK(count_of(log, "\n") == 1);
  }
  // Nothing taken or published: the games wait in the ring, no weights, no checkpoint.
  CHECK(records_in_lanes(*fresh.segment) == 10);
  CHECK(shm::WeightSlot(*fresh.segment).latest_version() == 0);
  CHECK(list_checkpoints(fresh.dir).empty());
}
