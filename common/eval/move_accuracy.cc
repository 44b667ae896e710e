#include "common/eval/move_accuracy.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "common/durable_file.h"
#include "common/hash.h"
#include "common/solver/position_file.h"

namespace rz {
namespace {

constexpr int kWidth = Connect4Bitboard::kWidth;
constexpr const char* kMagic = "ringzero-connect4-labels 1";

int sign(int v) {
  return (v > 0) - (v < 0);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The cache body: the magic, the positions file's hash and the count, one line per position,
// then "end <checksum of everything before>".
std::string cache_text(uint64_t file_hash, const std::vector<LabelledPosition>& labels) {
  std::string body = fmt::format("{}\npositions {:016x} {}\n", kMagic, file_hash, labels.size());
  for (const auto& p : labels) {
    body += fmt::format("{} {}", p.line_number, p.moves);
    for (int s : p.scores)
      body += s == Connect4Solver::kInvalidColumn ? std::string(" x") : fmt::format(" {}", s);
    body += '\n';
  }
  return body + fmt::format("end {:016x}\n", fnv1a64(body.data(), body.size()));
}

// Parses a cache; returns the reason it is unusable, or "" with *out filled.
std::string parse_cache(const std::string& text, uint64_t file_hash,
                        std::vector<LabelledPosition>* out) {
  const auto end = text.rfind("end ");
  if (text.empty()) return "no cache yet";
  if (end == std::string::npos || text.back() != '\n') return "cache is truncated";
  if (text.compare(end + 4, 16, fmt::format("{:016x}", fnv1a64(text.data(), end))) != 0)
    return "cache checksum mismatch";
  std::istringstream in(text.substr(0, end));
  std::string line;
  std::getline(in, line);
  if (line != kMagic) return "cache has an unknown format";
  std::string word, hash_text;
  size_t count = 0;
  std::getline(in, line);
  std::istringstream header(line);
  if (!(header >> word >> hash_text >> count) || word != "positions")
    return "cache header is damaged";
  if (hash_text != fmt::format("{:016x}", file_hash))
    return "positions file changed since the cache was written";
  out->clear();
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    LabelledPosition p;
    if (!(fields >> p.line_number >> p.moves)) return "cache line is damaged";
    for (int c = 0; c < kWidth; ++c) {
      if (!(fields >> word)) return "cache line is damaged";
      p.scores[c] = word == "x" ? Connect4Solver::kInvalidColumn : std::atoi(word.c_str());
    }
    out->push_back(std::move(p));
  }
  if (out->size() != count) return "cache count mismatch";
  return "";
}

// Atomic replace: a reader sees the old cache or the new one, never a torn file.
bool write_atomically(const std::string& path, const std::string& text, std::string* error) {
  try {
    write_file_durably(path, text);
    return true;
  } catch (const DurableWriteError& e) {
    *error = fmt::format("cannot write label cache: {} (pass a writable path)", e.what());
    return false;
  }
}

}  // namespace

int best_score(const ColumnScores& scores) {
  return *std::max_element(scores.begin(), scores.end());
}

int result_of(const ColumnScores& scores) {
  return sign(best_score(scores));
}

bool is_optimal(const ColumnScores& scores, int column) {
  return scores[column] != Connect4Solver::kInvalidColumn && scores[column] == best_score(scores);
}

bool keeps_result(const ColumnScores& scores, int column) {
  return scores[column] != Connect4Solver::kInvalidColumn &&
         sign(scores[column]) == result_of(scores);
}

bool some_move_loses_result(const ColumnScores& scores) {
  for (int c = 0; c < kWidth; ++c)
    if (scores[c] != Connect4Solver::kInvalidColumn && !keeps_result(scores, c)) return true;
  return false;
}

LabelLoad load_or_solve_labels(const std::string& positions_file, const std::string& cache_path,
                               int limit, Connect4Solver& solver) {
  auto lines = read_position_file(positions_file, /*require_score=*/false);
  if (limit > 0 && lines.size() > static_cast<size_t>(limit)) lines.resize(limit);
  const std::string file_bytes = read_all(positions_file);
  const uint64_t file_hash = fnv1a64(file_bytes.data(), file_bytes.size());

  LabelLoad load;
  std::vector<LabelledPosition> cached;
  const std::string problem = parse_cache(read_all(cache_path), file_hash, &cached);
  if (problem.empty() && cached.size() >= lines.size()) {
    cached.resize(lines.size());
    bool same = true;
    for (size_t i = 0; i < lines.size() && same; ++i)
      same = cached[i].moves == lines[i].moves && cached[i].line_number == lines[i].line_number;
    if (same) {
      load.positions = std::move(cached);
      load.from_cache = true;
      load.note = fmt::format("labels read from cache '{}'", cache_path);
      return load;
    }
  }
  load.note = problem.empty() ? "cache covers fewer positions" : problem;
  for (const auto& line : lines)
    load.positions.push_back({line.line_number, line.moves, solver.column_scores(line.moves)});
  std::string error;
  if (write_atomically(cache_path, cache_text(file_hash, load.positions), &error))
    load.note = fmt::format("labels solved ({}) and cached in '{}'", load.note, cache_path);
  else
    load.note = fmt::format("labels solved; {}", error);
  return load;
}

void write_label_cache(const std::string& positions_text, const std::string& cache_path,
                       const std::vector<LabelledPosition>& labels) {
  write_file_durably(cache_path,
                     cache_text(fnv1a64(positions_text.data(), positions_text.size()), labels));
}

std::unique_ptr<State> state_from_moves(const Game& game, const std::string& moves,
                                        std::vector<Action>* history) {
  auto state = game.new_initial_state();
  history->clear();
  for (size_t k = 0; k < moves.size(); ++k) {
    const Action a = game.parse_action(std::string(1, moves[k]));
    if (state->is_terminal())
      throw GameError(fmt::format("move {} of '{}' comes after the end of the game", k + 1, moves));
    if (!state->is_legal(a))
      throw GameError(fmt::format("move {} of '{}' is illegal there", k + 1, moves));
    state->apply(a);
    history->push_back(a);
  }
  if (state->is_terminal()) throw GameError(fmt::format("'{}' is a finished game", moves));
  return state;
}

AccuracyResult measure_accuracy(const Game& game, const std::vector<LabelledPosition>& positions,
                                Agent& agent) {
  AccuracyResult result;
  std::vector<Action> history;
  for (const auto& p : positions) {
    ++result.positions;
    if (!some_move_loses_result(p.scores)) continue;
    ++result.counted;
    const auto state = state_from_moves(game, p.moves, &history);
    const Action a = agent.choose(*state, history);
    result.optimal += is_optimal(p.scores, a);
    result.keeps += keeps_result(p.scores, a);
  }
  return result;
}

}  // namespace rz
