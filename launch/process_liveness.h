// Is a pid a living process? Answered from /proc/<pid>/stat, so that a zombie (dead but not
// yet reaped: kill(pid, 0) still succeeds) counts as dead, and a pid reused by an unrelated
// program is not mistaken for ours (the command name must match when one is given).
#pragma once

#include <sys/types.h>

#include <string>

namespace rz::launch {

// True when `pid` exists and is not a zombie/dead task. When `comm_prefix` is non-empty the
// process's command name (/proc/<pid>/comm, at most 15 chars) must start with it.
bool process_alive(pid_t pid, const std::string& comm_prefix = "");

// The one-letter state from /proc/<pid>/stat ('R', 'S', 'Z', ...), or 0 if there is no
// such process.
char process_state(pid_t pid);

}  // namespace rz::launch
