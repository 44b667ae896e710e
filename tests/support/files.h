// Files as tests read them: a test compares what a real program wrote (a log, a checkpoint, a
// CSV, /proc/<pid>/maps) with what it expects, so it reads whole files, byte for byte, and
// splits text into lines. One reader for every test: the copies it replaced differed in
// binary mode and in what a missing file gave.
#pragma once

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace rz::testing {

// The whole file, bytes as they are (binary mode); "" if it is missing or unreadable, so a
// test can poll for a log line before the log exists.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Writes `text` as the whole file (created or truncated); returns `path`, for tests that
// build a file and pass its name on in one expression.
inline std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

// `text` split at '\n' (a last line without one still counts; no empty line after the end).
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

inline std::vector<std::string> read_lines(const std::string& path) {
  return split_lines(read_file(path));
}

// The first `n` lines of the file at `path` (all of it if it is shorter), each ending in '\n':
// a small test set cut from a shared data file.
inline std::string first_lines(const std::string& path, size_t n) {
  std::string text;
  const std::vector<std::string> lines = read_lines(path);
  for (size_t i = 0; i < n && i < lines.size(); ++i) text += lines[i] + "\n";
  return text;
}

inline bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace rz::testing
