#include "common/eval/eval_csv.h"

#include "common/durable_file.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace rz {

const char* const kEvalCsvHeader =
    "time,step,weight_version,games,won,drawn,lost,win_rate,score,elo,"
    "policy_accuracy_keep,policy_accuracy_optimal,mcts_accuracy_keep,mcts_accuracy_optimal";

namespace {

std::string optional_field(const std::optional<double>& v) {
  return v ? fmt::format("{:.4f}", *v) : std::string();
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

}  // namespace

std::string format_eval_row(const EvalRow& r) {
  return fmt::format("{:.3f},{},{},{},{},{},{},{:.4f},{:.4f},{},{},{},{},{}\n", r.time, r.step,
                     r.weight_version, r.games, r.won, r.drawn, r.lost, r.win_rate, r.score,
                     elo_field(r.elo), optional_field(r.policy_accuracy_keep),
                     optional_field(r.policy_accuracy_optimal),
                     optional_field(r.mcts_accuracy_keep), optional_field(r.mcts_accuracy_optimal));
}

std::vector<std::pair<std::string, double>> eval_scalars(const EvalRow& r) {
  std::vector<std::pair<std::string, double>> out = {
      {"weight_version", static_cast<double>(r.weight_version)},
      {"games", r.games}, {"won", r.won}, {"drawn", r.drawn}, {"lost", r.lost},
      {"win_rate", r.win_rate}, {"score", r.score}, {"elo", r.elo}};
  const std::pair<const char*, const std::optional<double>*> accuracies[] = {
      {"policy_accuracy_keep", &r.policy_accuracy_keep},
      {"policy_accuracy_optimal", &r.policy_accuracy_optimal},
      {"mcts_accuracy_keep", &r.mcts_accuracy_keep},
      {"mcts_accuracy_optimal", &r.mcts_accuracy_optimal}};
  for (const auto& [name, value] : accuracies)
    if (*value) out.emplace_back(name, **value);
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
  text += format_eval_row(row);
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
  const int fields = count_fields(kEvalCsvHeader);
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
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
