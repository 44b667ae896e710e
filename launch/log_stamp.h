// The one line format of every log in a run directory:
//   2026-11-23T16:40:01.123Z launch: spawned actor-1 pid 4242
// Time first (UTC, milliseconds) so logs of different processes merge with `sort`, then the
// role, then the text. The supervisor stamps its own lines and its children's output.
#pragma once

#include <string>
#include <string_view>

namespace rz::launch {

// "2026-11-23T16:40:01.123Z" for the current wall-clock time.
std::string utc_timestamp();

// "<timestamp> <role>: <text>\n"
std::string stamp_line(std::string_view role, std::string_view text);

}  // namespace rz::launch
