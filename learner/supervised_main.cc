// ringzero-supervised: the supervised ceiling. Trains a run's network directly on Connect Four
// positions labelled by the solver (learner/solver_batch.h: policy = the optimal columns,
// value = the result), with the learner's own Trainer, batch size, optimiser and learning-rate
// schedule, and prints the raw policy's accuracy on test sets as it goes. Set beside a
// self-play run of as many steps, it separates what the network can hold from what the
// self-play loop finds (issue #17, docs/results.md "The supervised ceiling").
//
//   ringzero-supervised --game connect4 [--config RUN/config.ini] [--net.blocks B ...]
//       --train FILE [--train FILE ...] --test FILE [--test FILE ...] --steps N
//       [--eval-every N] [--labels-dir DIR] [--save BLOB]
//
// Positions files are Pons' format; their labels come from the label cache (FILE.labels, or
// DIR/<name>.labels with --labels-dir: `ringzero-eval positions --out FILE` writes both) and
// are solved and cached when missing. Training positions that are also test positions (in
// either orientation) are dropped. Fractional schedules (learner.lr_schedule 0.66:0.002)
// resolve against --steps; the config checks want --minutes beside them, as a timed run's
// config.ini has it (its value is not used here). One line per evaluation: step, learning rate,
// mean losses since the last line, keeps-the-result accuracy on each set (its counted positions)
// and on the first 1000 training positions (each set's counted positions are printed when it
// loads). --save writes the weight blob (ringzero-eval --weights) at every evaluation.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/durable_file.h"
#include "common/error.h"
#include "common/eval/agent.h"
#include "common/eval/move_accuracy.h"
#include "common/eval/network_file.h"
#include "common/net/net_evaluator.h"
#include "common/run_schedule.h"
#include "learner/solver_batch.h"
#include "learner/trainer.h"

namespace {

namespace po = boost::program_options;

struct LabelledSet {
  std::string name;
  std::vector<rz::LabelledPosition> positions;
};

LabelledSet load_set(const std::string& file, const std::string& labels_dir,
                     rz::Connect4Solver& solver) {
  const std::string base = file.substr(file.find_last_of('/') + 1);
  const std::string cache =
      labels_dir.empty() ? file + ".labels" : labels_dir + "/" + base + ".labels";
  rz::LabelLoad load = rz::load_or_solve_labels(file, cache, 0, solver);
  const auto counted =
      std::count_if(load.positions.begin(), load.positions.end(),
                    [](const auto& p) { return rz::some_move_loses_result(p.scores); });
  fmt::print("{}: {} positions, {} counted; {}{}\n", base, load.positions.size(), counted,
             load.note,
             load.note.find("cannot write") != std::string::npos ? " with --labels-dir" : "");
  return {base, std::move(load.positions)};
}

// The raw policy of the weights in `blob` (argmax over the legal columns), as `ringzero-eval
// accuracy --sims 0` measures it.
std::unique_ptr<rz::Agent> policy_agent(const rz::Game& game, const std::vector<uint8_t>& blob) {
  rz::NetworkFile file{"(training)", blob, rz::parse_weight_blob_header(blob.data(), blob.size())};
  return rz::make_policy_agent(game, rz::make_network_evaluator(file, game), "policy");
}

double keeps(const rz::Game& game, rz::Agent& agent,
             const std::vector<rz::LabelledPosition>& positions) {
  return 100 * rz::measure_accuracy(game, positions, agent).keeps_fraction();
}

int run(const rz::RunConfig& config, const po::variables_map& flags) {
  const auto steps = flags["steps"].as<int64_t>();
  const int eval_every = flags["eval-every"].as<int>();
  if (steps < 1 || eval_every < 1)
    throw rz::UserError("--steps and --eval-every must be at least 1");
  if (!flags.count("train") || !flags.count("test"))
    throw rz::UserError("give at least one --train FILE and one --test FILE");
  const std::string labels_dir =
      flags.count("labels-dir") ? flags["labels-dir"].as<std::string>() : "";
  auto game = rz::make_game(config.game);
  if (game->spec() != "connect4")
    throw rz::UserError("solver labels are Connect Four's: pick --game connect4");
  // Before any solving: a device that cannot be used says so at once.
  rz::Trainer trainer(*game, config, config.seed);
  if (!trainer.on_cuda()) rz::keep_activation_memory_in_heap();

  rz::Connect4Solver solver;
  std::vector<rz::LabelledPosition> train;
  for (const auto& file : flags["train"].as<std::vector<std::string>>()) {
    auto set = load_set(file, labels_dir, solver);
    train.insert(train.end(), set.positions.begin(), set.positions.end());
  }
  std::vector<LabelledSet> tests;
  for (const auto& file : flags["test"].as<std::vector<std::string>>())
    tests.push_back(load_set(file, labels_dir, solver));
  const size_t given = train.size();
  std::vector<rz::LabelledPosition> tested;
  for (const auto& set : tests)
    tested.insert(tested.end(), set.positions.begin(), set.positions.end());
  const size_t dropped = rz::drop_positions_of(*game, tested, &train);
  if (train.empty())
    throw rz::UserError(
        fmt::format("all {} training positions are test positions: give a --train "
                    "set disjoint from --test",
                    given));
  if (dropped) fmt::print("{} training positions dropped: they are test positions\n", dropped);
  const std::vector<rz::LabelledPosition> train_probe(
      train.begin(), train.begin() + std::min<size_t>(train.size(), 1000));

  const rz::SolverBatchBuilder builder(*game, train, config.learner.batch_size);
  fmt::print("{} {} on {}, seed {}: {} training positions, batch {}, {} steps; {}\n", config.game,
             config.net.shape_string(), trainer.device_name(), config.seed, builder.positions(),
             config.learner.batch_size, steps, trainer.device_choice());

  std::mt19937_64 rng(config.seed);
  rz::Batch batch;
  rz::StepLosses sum;
  int since_report = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t step = 1; step <= steps; ++step) {
    const double lr = rz::learning_rate_at(config.learner, step - 1, double(step - 1) / steps);
    builder.build(rng, &batch);
    const rz::StepLosses l = trainer.train_step(batch, lr);
    sum.policy += l.policy;
    sum.value += l.value;
    ++since_report;
    if (step % eval_every != 0 && step != steps) continue;
    const std::vector<uint8_t> blob = trainer.weights_blob();
    std::string line = fmt::format("step {} lr {:g} loss p {:.4f} v {:.4f} |", step, lr,
                                   sum.policy / since_report, sum.value / since_report);
    const auto agent = policy_agent(*game, blob);
    for (const auto& set : tests)
      line += fmt::format(" {} {:.2f}%", set.name, keeps(*game, *agent, set.positions));
    line += fmt::format(
        " | train {:.2f}% | {:.0f} s", keeps(*game, *agent, train_probe),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    fmt::print("{}\n", line);
    std::fflush(stdout);
    if (flags.count("save"))
      rz::write_file_durably(flags["save"].as<std::string>(), blob.data(), blob.size());
    sum = {};
    since_report = 0;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  rz::RoleOptions role("supervised",
                       "ringzero-supervised --game connect4 --train FILE --test FILE --steps N");
  auto add = role.flags.add_options();
  add("train", po::value<std::vector<std::string>>(), "labelled positions to train on");
  add("test", po::value<std::vector<std::string>>(), "labelled positions to measure on");
  add("steps", po::value<int64_t>()->default_value(10000), "gradient steps");
  add("eval-every", po::value<int>()->default_value(5000), "steps between accuracy lines");
  add("labels-dir", po::value<std::string>(), "label caches as DIR/<name>.labels");
  add("save", po::value<std::string>(), "weight blob written at every accuracy line");
  po::variables_map flags;
  rz::RunConfig config = rz::parse_config_or_exit(argc, argv, role, &flags);
  rz::resolve_random_seed(&config);
  return rz::run_main("ringzero-supervised", [&] { return run(config, flags); });
}
