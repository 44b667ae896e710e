#include "launch/log_stamp.h"

#include <time.h>

#include <fmt/format.h>

namespace rz::launch {

std::string utc_timestamp() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm parts{};
  gmtime_r(&ts.tv_sec, &parts);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", parts.tm_year + 1900,
                     parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                     ts.tv_nsec / 1000000);
}

std::string stamp_line(std::string_view role, std::string_view text) {
  std::string line = utc_timestamp();
  line += ' ';
  line += role;
  line += ": ";
  line += text;
  line += '\n';
  return line;
}

}  // namespace rz::launch
