#include "common/eval/eval_csv.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/durable_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace rz {

const char* const kEvalCsvHeaderV1 =
    "time,step,weight_version,games,won,drawn,lost,win_rate,score,elo,"
    "policy_accuracy_keep,policy_accuracy_optimal,mcts_accuracy_keep,mcts_accuracy_optimal";
const char* const kEvalCsvHeader =
    "time,step,weight_version,games,won,drawn,lost,win_rate,score,elo,"
    "policy_accuracy_keep,policy_accuracy_optimal,mcts_accuracy_keep,mcts_accuracy_optimal,"
    "early_middle_policy_accuracy_keep,early_middle_policy_accuracy_optimal,"
    "early_middle_mcts_accuracy_keep,early_middle_mcts_accuracy_optimal,"
    "score_as_first,score_as_second,"
    "strong_opponent_sims,strong_score,strong_score_as_first,strong_score_as_second";

namespace {

std::string optional_field(const std::optional<double>& v) {
  return v ? fmt::format("{:.4f}", *v) : std::string();
}

// A rate, or an empty field (a plot gap) when it was not measured (NaN).
std::string rate_field(double v) {
  return std::isnan(v) ? std::string() : fmt::format("{:.4f}", v);
}

std::string elo_field(double elo) {
  if (std::isinf(elo)) return elo > 0 ? "inf" : "-inf";
  return fmt::format("{:.1f}", elo);
}

int count_fields(const std::string& line) {
  int n = 1;
  for (char c : line) n += c == ',';
  return n;
}

// The first line of the open file `fd` (without '\n'); "" if it has none yet.
std::string first_line(int fd) {
  std::string line;
  char buffer[512];
  off_t offset = 0;
  while (line.size() < 65536) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n <= 0) break;
    const std::string chunk(buffer, static_cast<size_t>(n));
    const auto end = chunk.find('\n');
    line += chunk.substr(0, end);
    if (end != std::string::npos) break;
    offset += n;
  }
  return line;
}

// `row` (a formatted line) cut to its first `fields` fields, '\n' kept.
std::string first_fields(const std::string& row, int fields) {
  size_t pos = 0;
  for (int i = 0; i < fields; ++i) {
    pos = row.find(',', pos);
    if (pos == std::string::npos) return row;
    ++pos;
  }
  return row.substr(0, pos - 1) + "\n";
}

}  // namespace

std::string format_eval_row(const EvalRow& r) {
  const bool strong = r.strong_opponent_sims > 0;
  return fmt::format(
      "{:.3f},{},{},{},{},{},{},{:.4f},{:.4f},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
      r.time, r.step, r.weight_version, r.games, r.won, r.drawn, r.lost, r.win_rate, r.score,
      elo_field(r.elo), optional_field(r.policy_accuracy_keep),
      optional_field(r.policy_accuracy_optimal), optional_field(r.mcts_accuracy_keep),
      optional_field(r.mcts_accuracy_optimal), optional_field(r.early_middle_policy_accuracy_keep),
      optional_field(r.early_middle_policy_accuracy_optimal),
      optional_field(r.early_middle_mcts_accuracy_keep),
      optional_field(r.early_middle_mcts_accuracy_optimal), rate_field(r.score_as_first),
      rate_field(r.score_as_second),
      strong ? std::to_string(r.strong_opponent_sims) : std::string(),
      strong ? rate_field(r.strong_score) : std::string(),
      strong ? rate_field(r.strong_score_as_first) : std::string(),
      strong ? rate_field(r.strong_score_as_second) : std::string());
}

std::vector<std::pair<std::string, double>> eval_scalars(const EvalRow& r) {
  std::vector<std::pair<std::string, double>> out = {
      {"weight_version", static_cast<double>(r.weight_version)},
      {"games", r.games},
      {"won", r.won},
      {"drawn", r.drawn},
      {"lost", r.lost},
      {"win_rate", r.win_rate},
      {"score", r.score},
      {"elo", r.elo}};
  const std::pair<const char*, const std::optional<double>*> accuracies[] = {
      {"policy_accuracy_keep", &r.policy_accuracy_keep},
      {"policy_accuracy_optimal", &r.policy_accuracy_optimal},
      {"mcts_accuracy_keep", &r.mcts_accuracy_keep},
      {"mcts_accuracy_optimal", &r.mcts_accuracy_optimal},
      {"early_middle_policy_accuracy_keep", &r.early_middle_policy_accuracy_keep},
      {"early_middle_policy_accuracy_optimal", &r.early_middle_policy_accuracy_optimal},
      {"early_middle_mcts_accuracy_keep", &r.early_middle_mcts_accuracy_keep},
      {"early_middle_mcts_accuracy_optimal", &r.early_middle_mcts_accuracy_optimal}};
  for (const auto& [name, value] : accuracies)
    if (*value) out.emplace_back(name, **value);
  if (!std::isnan(r.score_as_first)) out.emplace_back("score_as_first", r.score_as_first);
  if (!std::isnan(r.score_as_second)) out.emplace_back("score_as_second", r.score_as_second);
  if (r.strong_opponent_sims > 0) {
    out.emplace_back("strong_opponent_sims", r.strong_opponent_sims);
    out.emplace_back("strong_score", r.strong_score);
    if (!std::isnan(r.strong_score_as_first))
      out.emplace_back("strong_score_as_first", r.strong_score_as_first);
    if (!std::isnan(r.strong_score_as_second))
      out.emplace_back("strong_score_as_second", r.strong_score_as_second);
  }
  return out;
}

void append_eval_row(const std::string& path, const EvalRow& row) {
  // O_RDWR, not O_WRONLY: the torn-row check below reads the last byte.
  const int fd = open_for_append(path, /*readable=*/true);
  if (fd < 0)
    throw std::runtime_error(
        fmt::format("cannot open '{}' for appending: {}", path, std::strerror(errno)));
  struct stat st {};
  std::string text;
  // A file that ends without '\n' holds a row torn by a killed writer: end it so that the
  // new row starts on its own line (the reader skips the torn one).
  if (::fstat(fd, &st) == 0 && st.st_size == 0) {
    text = std::string(kEvalCsvHeader) + "\n";
  } else {
    char last = '\n';
    if (::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') text = "\n";
  }
  std::string line = format_eval_row(row);
  // A file an older evaluator began: rows as wide as its header (the later columns dropped).
  const std::string header = st.st_size == 0 ? std::string(kEvalCsvHeader) : first_line(fd);
  if (header != kEvalCsvHeader && std::string(kEvalCsvHeader).rfind(header + ",", 0) == 0)
    line = first_fields(line, count_fields(header));
  text += line;
  // One write: O_APPEND makes it atomic with respect to other appenders, and a kill can only
  // leave it whole or (on a full disk) short, never interleaved.
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int write_errno = errno;
  ::fsync(fd);
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    throw std::runtime_error(fmt::format("cannot append to '{}': {}", path,
                                         n < 0 ? std::strerror(write_errno) : "short write"));
}

uint64_t last_evaluated_version(const std::string& path) {
  std::ifstream in(path);
  if (!in) return 0;
  std::string line;
  uint64_t last = 0;
  int fields = count_fields(kEvalCsvHeader);
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {  // rows are as wide as the file's own header (an older one is narrower)
      header = false;
      fields = count_fields(line);
      continue;
    }
    if (count_fields(line) != fields) continue;  // torn or foreign row
    std::stringstream ss(line);
    std::string time, step, version;
    std::getline(ss, time, ',');
    std::getline(ss, step, ',');
    std::getline(ss, version, ',');
    char* end = nullptr;
    const unsigned long long v = std::strtoull(version.c_str(), &end, 10);
    if (!version.empty() && *end == '\0' && v > last) last = v;
  }
  return last;
}

}  // namespace rz
