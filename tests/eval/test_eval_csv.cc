// RUN/eval.csv: header once, whole rows, a torn row (a killed writer) isolated on its own line
// and ignored when a restarted evaluator looks for the last version it evaluated.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "common/eval/eval_csv.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace {

rz::EvalRow row(uint64_t version) {
  rz::EvalRow r;
  r.time = 1795452035.25;
  r.step = version * 50;
  r.weight_version = version;
  r.games = 4;
  r.won = 3;
  r.drawn = 1;
  r.lost = 0;
  r.win_rate = 0.75;
  r.score = 0.875;
  r.elo = 338.04;
  r.score_as_first = 1.0;
  r.score_as_second = 0.75;
  return r;
}

// The accuracy fields of a Connect Four evaluation: the raw policy and MCTS on the test set...
void set_accuracy(rz::EvalRow& r) {
  r.policy_accuracy_keep = 0.5;
  r.policy_accuracy_optimal = 0.25;
  r.mcts_accuracy_keep = 0.75;
  r.mcts_accuracy_optimal = 0.625;
}

// ... and on the early/middle-game set.
void set_early_middle_accuracy(rz::EvalRow& r) {
  r.early_middle_policy_accuracy_keep = 0.875;
  r.early_middle_policy_accuracy_optimal = 0.5;
  r.early_middle_mcts_accuracy_keep = 1.0;
  r.early_middle_mcts_accuracy_optimal = 0.75;
}

}  // namespace

TEST_CASE("eval.csv rows: fields, empty accuracy, infinite Elo", "[eval]") {
  CHECK(rz::format_eval_row(row(3)) ==
        "1795452035.250,150,3,4,3,1,0,0.7500,0.8750,338.0,,,,,,,,,1.0000,0.7500,,,,\n");
  rz::EvalRow r = row(4);
  r.elo = std::numeric_limits<double>::infinity();
  set_accuracy(r);
  CHECK(rz::format_eval_row(r) ==
        "1795452035.250,200,4,4,3,1,0,0.7500,0.8750,inf,0.5000,0.2500,0.7500,0.6250,,,,,1.0000,0."
        "7500,,,,\n");
  set_early_middle_accuracy(r);
  CHECK(rz::format_eval_row(r) ==
        "1795452035.250,200,4,4,3,1,0,0.7500,0.8750,inf,0.5000,0.2500,0.7500,0.6250,"
        "0.8750,0.5000,1.0000,0.7500,1.0000,0.7500,,,,\n");
  // The second arena, against a stronger rollout MCTS.
  r.strong_opponent_sims = 1000;
  r.strong_score = 0.625;
  r.strong_score_as_first = 0.75;
  r.strong_score_as_second = 0.5;
  CHECK(rz::format_eval_row(r).find(",1.0000,0.7500,1000,0.6250,0.7500,0.5000\n") !=
        std::string::npos);
  // A colour without games (a one-game arena) is an empty field.
  r.strong_score_as_second = std::nan("");
  CHECK(rz::format_eval_row(r).find(",1000,0.6250,0.7500,\n") != std::string::npos);
}

TEST_CASE("eval.csv: header once, appended rows, torn row isolated and skipped", "[eval]") {
  const rz::testing::TempDir dir("eval-csv");
  const std::string path = dir.file("eval.csv");
  CHECK(rz::last_evaluated_version(path) == 0);  // no file
  rz::append_eval_row(path, row(1));
  rz::append_eval_row(path, row(2));
  const std::string header = std::string(rz::kEvalCsvHeader) + "\n";
  CHECK(rz::testing::read_file(path) ==
        header + rz::format_eval_row(row(1)) + rz::format_eval_row(row(2)));
  CHECK(rz::last_evaluated_version(path) == 2);

  // A writer killed mid-row leaves a line without its end; the next row starts a new line.
  const std::string torn = rz::format_eval_row(row(9)).substr(0, 20);
  { std::ofstream(path, std::ios::app) << torn; }
  CHECK(rz::last_evaluated_version(path) == 2);
  rz::append_eval_row(path, row(3));
  CHECK(rz::testing::read_file(path) == header + rz::format_eval_row(row(1)) +
                                            rz::format_eval_row(row(2)) + torn + "\n" +
                                            rz::format_eval_row(row(3)));
  CHECK(rz::last_evaluated_version(path) == 3);
}

TEST_CASE("eval.csv: an unwritable path is a one-line error naming it", "[eval]") {
  try {
    rz::append_eval_row("/nonexistent-dir/eval.csv", row(1));
    FAIL("no error");
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    CHECK(message.find("/nonexistent-dir/eval.csv") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("eval.csv begun by an older evaluator: rows keep its width, the last version is found",
          "[eval]") {
  const rz::testing::TempDir dir("eval-csv");
  const std::string path = dir.file("eval.csv");
  // A run evaluated before the early_middle_* columns: its header and a row of 14 fields.
  const std::string old_row =
      "1795452035.250,50,1,4,3,1,0,0.7500,0.8750,338.0,0.5,0.25,0.75,0.625\n";
  { std::ofstream(path) << rz::kEvalCsvHeaderV1 << "\n" << old_row; }
  CHECK(rz::last_evaluated_version(path) == 1);
  rz::EvalRow r = row(2);
  set_accuracy(r);
  set_early_middle_accuracy(r);
  rz::append_eval_row(path, r);
  CHECK(rz::testing::read_file(path) ==
        std::string(rz::kEvalCsvHeaderV1) + "\n" + old_row +
            "1795452035.250,100,2,4,3,1,0,0.7500,0.8750,338.0,0.5000,0.2500,0.7500,0.6250\n");
  CHECK(rz::last_evaluated_version(path) == 2);
  // The new header extends the old one: the old columns keep their places.
  CHECK(std::string(rz::kEvalCsvHeader).rfind(std::string(rz::kEvalCsvHeaderV1) + ",", 0) == 0);
}
