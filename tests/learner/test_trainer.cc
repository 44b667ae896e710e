// Trainer and SgdMomentum (LibTorch): the loss falls on fixed data, and restoring weights +
// optimiser state continues training bit-for-bit as if never interrupted (the momentum
// buffers matter: without them the continuation differs). Learner checkpoints written from a
// Trainer: a damaged file of the same step is set aside, never overwritten.
#include <catch2/catch.hpp>

#include <sys/mman.h>

#include "common/checkpoint_file.h"
#include "learner/batch_builder.h"
#include "learner/checkpoint.h"
#include "learner/record_decode.h"
#include "learner/replay_window.h"
#include "learner/trainer.h"
#include "tests/learner/process_harness.h"

using namespace rz;

namespace {

struct Fixture {
  Fixture() : game(make_game("tictactoe")), mem(1 << 20) {
    config.game = "tictactoe";
    config.net.blocks = 1;
    config.net.filters = 16;
    config.learner.batch_size = 64;
    config.learner.device = "cpu";
    window = std::make_unique<ReplayWindow>(mem.data(), mem.size(), 100000, 1, 1);
    auto records = rz::testing::selfplay_records(*game, 60, 11);
    FinishedGame g;
    std::string error;
    for (size_t i = 0; i < records.size(); ++i) {
      REQUIRE(decode_record(*game, records[i].data(), records[i].size(), &g, &error));
      window->insert(0, i, records[i].data(), static_cast<uint32_t>(records[i].size()),
                     static_cast<uint32_t>(g.positions.size()), target_positions(g));
    }
    BatchBuilder builder(*game, config.learner.batch_size);
    std::mt19937_64 rng(2);
    batches.resize(6);
    for (auto& b : batches) builder.build(*window, rng, &b);
  }
  std::unique_ptr<Game> game;
  RunConfig config;
  std::vector<uint8_t> mem;
  std::unique_ptr<ReplayWindow> window;
  std::vector<Batch> batches;
};

}  // namespace

TEST_CASE("training on fixed batches lowers the AlphaZero loss") {
  Fixture f;
  Trainer trainer(*f.game, f.config, 1);
  StepLosses first = trainer.train_step(f.batches[0], 0.05);
  StepLosses last;
  for (int i = 0; i < 60; ++i) last = trainer.train_step(f.batches[i % 3], 0.05);
  INFO("first " << first.total << " last " << last.total);
  CHECK(last.total < 0.8 * first.total);
  CHECK(last.policy < first.policy);
  CHECK(last.value < first.value);
  CHECK(std::abs(first.total - first.policy - first.value) < 1e-4);
}

TEST_CASE("restored weights and momentum continue training exactly") {
  Fixture f;
  Trainer a(*f.game, f.config, 1);
  for (int i = 0; i < 4; ++i) a.train_step(f.batches[i], 0.05);
  std::vector<uint8_t> weights = a.weights_blob(), momentum = a.optimizer_state();

  Trainer b(*f.game, f.config, /*another seed*/ 99);
  REQUIRE(b.weights_blob() != weights);
  b.load(weights, momentum);
  CHECK(b.weights_blob() == weights);
  a.train_step(f.batches[4], 0.05);
  b.train_step(f.batches[4], 0.05);
  CHECK(a.weights_blob() == b.weights_blob());

  // Without the momentum buffers the continuation differs: the state is really needed.
  Trainer c(*f.game, f.config, 1);
  Trainer fresh_optimizer(*f.game, f.config, 1);
  c.load(weights, fresh_optimizer.optimizer_state());
  Trainer d(*f.game, f.config, 1);
  d.load(weights, momentum);
  c.train_step(f.batches[4], 0.05);
  d.train_step(f.batches[4], 0.05);
  CHECK(c.weights_blob() != d.weights_blob());

  // State of another network shape is refused with one line, weights untouched.
  RunConfig other = f.config;
  other.net.filters = 8;
  Trainer e(*f.game, other, 1);
  std::vector<uint8_t> before = e.weights_blob();
  CHECK_THROWS(e.load(weights, momentum));
  CHECK(e.weights_blob() == before);
}

TEST_CASE("a learner checkpoint over a damaged file of its step sets that file aside first") {
  Fixture f;
  rz::testing::TempDir run("ckpt-aside");
  Trainer trainer(*f.game, f.config, 1);
  std::mt19937_64 rng(5);
  LearnerProgress progress{40, 4};
  ::mkdir(checkpoint_dir(run.path()).c_str(), 0755);
  const std::string path = checkpoint_path(run.path(), 40);
  { std::ofstream(path, std::ios::binary) << "damaged bytes"; }
  CHECK(save_learner_checkpoint(run.path(), f.config, *f.game, trainer, progress, rng) == path);
  CHECK(read_checkpoint(path).step == 40);
  CHECK(rz::testing::read_file(path + ".corrupt") == "damaged bytes");

  // A valid file of the same step (this learner's own, e.g. the final save at a periodic
  // checkpoint's step) is simply replaced: nothing set aside.
  trainer.train_step(f.batches[0], 0.05);
  CHECK(save_learner_checkpoint(run.path(), f.config, *f.game, trainer, progress, rng) == path);
  CHECK(read_checkpoint(path).weights == trainer.weights_blob());
  CHECK(::access((path + ".corrupt.2").c_str(), F_OK) != 0);
}
