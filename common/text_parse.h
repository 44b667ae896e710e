// Whole-string text parsing shared by the option table and its parser (config_options.cc,
// config.cc), the run schedules (run_schedule.cc) and the terminal match: one definition of
// "surrounding white space is ignored, anything else left over makes the text invalid".
#pragma once

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <string>

namespace rz {

// `s` without leading and trailing white space.
inline std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// A finite number and nothing else (white space around it allowed); false otherwise.
inline bool parse_double(const std::string& raw, double* out) {
  const std::string s = trim(raw);
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

// An int and nothing after it, read as std::stoi reads one (leading white space and a sign
// allowed, trailing characters not), within int's range; false otherwise. Game parameters,
// the solver's score column and the benchmarks' integer flags: one rule, not three copies.
inline bool parse_int(const std::string& text, int* out) {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || end != text.c_str() + text.size() || errno == ERANGE || v < INT_MIN ||
      v > INT_MAX)
    return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace rz
