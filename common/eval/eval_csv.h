// RUN/eval.csv: one row per evaluation of a published network, in the format the plot script
// reads (docs/play.md): `time,step,weight_version` first, then the measurements. Columns
// named *accuracy* are drawn on accuracy.png and *win* / *score* on winrate.png, so the game
// counts are named won/drawn/lost (not "wins"): a count must not share an axis with the rates.
//
// The file is appended to across evaluator restarts; the header is written only when the
// file is empty. Columns are only ever added at the end: a file begun by an older evaluator
// (whose header is a prefix of ours, e.g. without the early_middle_* columns) keeps getting
// rows of its own width, so every file stays one consistent table. Each row is one write(2) on an
// O_APPEND descriptor followed by fsync, so a process killed at any instant leaves whole rows (at
// worst the last row missing).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rz {

struct EvalRow {
  double time = 0;  // seconds since the epoch
  uint64_t step = 0;
  uint64_t weight_version = 0;
  int games = 0, won = 0, drawn = 0, lost = 0;
  double win_rate = 0, score = 0, elo = 0;  // elo may be +-inf (a clean sweep)
  // Move accuracy (Connect Four); empty = not measured (an empty CSV field: a plot gap).
  std::optional<double> policy_accuracy_keep, policy_accuracy_optimal;
  std::optional<double> mcts_accuracy_keep, mcts_accuracy_optimal;
  // The same on the early/middle-game set (eval.early_middle_positions, tests/data/README.md).
  std::optional<double> early_middle_policy_accuracy_keep, early_middle_policy_accuracy_optimal;
  std::optional<double> early_middle_mcts_accuracy_keep, early_middle_mcts_accuracy_optimal;
  // The arena's score split by the network's colour (games where it moved first / second):
  // a network that only wins as the first player shows it here. NaN = no game of that colour.
  double score_as_first = 0, score_as_second = 0;
  // The second arena, against rollout MCTS with strong_opponent_sims simulations (0 = not
  // played: the fields are empty).
  int strong_opponent_sims = 0;
  double strong_score = 0, strong_score_as_first = 0, strong_score_as_second = 0;
};

extern const char* const kEvalCsvHeader;
// The header before the early_middle_* columns (runs evaluated before they existed).
extern const char* const kEvalCsvHeaderV1;

// The row as a CSV line (with '\n'); infinite Elo is written as "inf" / "-inf".
std::string format_eval_row(const EvalRow& row);

// The row's measurements as (CSV column name, value) pairs, every column but time and step
// (accuracies only when measured): the TensorBoard curves carry the CSV's names and numbers.
std::vector<std::pair<std::string, double>> eval_scalars(const EvalRow& row);

// Appends `row` to `path`, writing the header first if the file is empty or new; to a file
// whose header is a shorter prefix of ours, only that many columns. Throws
// std::runtime_error (one line, naming the path) on an I/O error.
void append_eval_row(const std::string& path, const EvalRow& row);

// The weight_version of the last complete row of `path`, 0 if there is none (no file, only
// the header, or rows that do not parse or do not have the header's width). Lets a restarted
// evaluator carry on after it.
uint64_t last_evaluated_version(const std::string& path);

}  // namespace rz
