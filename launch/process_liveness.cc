#include "launch/process_liveness.h"

#include <fstream>
#include <sstream>

namespace rz::launch {

char process_state(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return 0;
  // Format: "pid (comm) S ...": comm may itself contain ')' and spaces, so the state is
  // the first field after the LAST ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return 0;
  return text[close + 2];
}

bool process_alive(pid_t pid, const std::string& comm_prefix) {
  const char state = process_state(pid);
  if (state == 0 || state == 'Z' || state == 'X' || state == 'x') return false;
  if (comm_prefix.empty()) return true;
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string comm;
  std::getline(in, comm);
  // The kernel truncates comm to 15 characters ("ringzero-learner" -> "ringzero-learne").
  const std::string want = comm_prefix.substr(0, 15);
  return comm.compare(0, want.size(), want) == 0;
}

}  // namespace rz::launch
