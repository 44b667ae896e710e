#include "launch/run_segment.h"

#include <sys/stat.h>

#include <cctype>

#include <fmt/format.h>

#include "launch/run_snapshot.h"
#include "shm/segment.h"

namespace rz::launch {

uint64_t read_run_token(const RunDir& dir) {
  std::string text;
  if (!read_text_file(dir.token_file(), &text)) return 0;
  try {
    return std::stoull(text, nullptr, 16);
  } catch (const std::exception&) {
    return 0;
  }
}

void write_run_token(const RunDir& dir, uint64_t token) {
  write_text_atomically(dir.token_file(), fmt::format("{:016x}\n", token));
}

SegmentCheck check_segment(const RunDir& dir, const std::string& name) {
  SegmentCheck c;
  struct stat st {};
  const std::string shown = name.empty() || name[0] != '/' ? "/" + name : name;
  if (::stat(("/dev/shm" + shown).c_str(), &st) != 0) return c;  // kNone
  std::unique_ptr<shm::Segment> seg;
  try {
    seg = shm::Segment::open(name, /*read_only=*/false);
  } catch (const shm::ShmError& e) {
    c.owner = SegmentOwner::kUnknown;
    c.why = e.what();
    return c;
  }
  c.creator_alive = seg->creator_alive();
  c.run_dir = run_info_value(seg->run_info(), "run_dir");
  const uint64_t token = read_run_token(dir);
  const bool same_dir = c.run_dir == dir.path();
  const bool same_token = seg->run_token() != 0 && seg->run_token() == token;
  // No token on our side at all: RUN was made again (deleted, or a fresh run in a reused
  // path). A segment of this path whose creator is dead is then the old incarnation's.
  const bool unclaimed = token == 0 && !c.creator_alive;
  c.owner =
      same_dir && (same_token || unclaimed) ? SegmentOwner::kThisRun : SegmentOwner::kOtherRun;
  return c;
}

void refuse_other_runs_segment(const RunDir& dir, const std::string& name) {
  const SegmentCheck c = check_segment(dir, name);
  if (c.owner != SegmentOwner::kOtherRun) return;
  throw std::runtime_error(fmt::format(
      "shared-memory segment {} belongs to another run ({}{}, {}): it is never reclaimed for "
      "this one; stop that run with launch.sh stop --run-dir {}, remove it with `rm /dev/shm{}` "
      "if that run is gone, or give this run another --shm.name",
      name, c.run_dir, c.run_dir == dir.path() ? " with another run token" : "",
      c.creator_alive ? "its supervisor is alive"
                      : "its supervisor is dead; the segment keeps its replay window",
      shell_quote(c.run_dir), name[0] == '/' ? name : "/" + name));
}

}  // namespace rz::launch
