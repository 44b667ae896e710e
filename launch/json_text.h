// The JSON the monitor writes (ringzero-monitor --json, read by scripts and tests), by hand:
// strings escaped, numbers finite or null, arrays of rows. One definition for the run's
// snapshot (run_snapshot.cc) and the scale-out part (scale_snapshot.cc).
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace rz::launch {

// `s` as a JSON string: quotes and backslashes escaped, control characters as \u00XX.
inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// Six significant digits; null for NaN and infinities, which JSON cannot say.
inline std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  return fmt::format("{:.6g}", v);
}

inline std::string json_optional(const std::optional<double>& v) {
  return v ? json_number(*v) : "null";
}

// "name":[item,item,...], each item the JSON `write` makes of one element.
template <typename T, typename Write>
std::string json_array(const std::string& name, const std::vector<T>& items, Write write) {
  std::string out = json_string(name) + ":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ",";
    out += write(items[i]);
  }
  return out + "]";
}

}  // namespace rz::launch
