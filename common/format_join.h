// format_join(items, separator, format_one): every item formatted by `format_one`, joined by
// `separator`. The JSON arrays of the benchmarks are built with it ("[" + ... + "]"), so that
// no loop carries its own "first item or not" comma.
#pragma once

#include <string>

namespace rz {

template <typename Items, typename FormatOne>
std::string format_join(const Items& items, const char* separator, FormatOne&& format_one) {
  std::string out;
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += separator;
    first = false;
    out += format_one(item);
  }
  return out;
}

}  // namespace rz
