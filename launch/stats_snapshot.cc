#include "launch/stats_snapshot.h"

#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "launch/run_dir.h"

namespace rz::launch {

namespace {

constexpr const char* kMagic = "ringzero-stats 1";

bool role_from_name(const std::string& name, shm::Role* role) {
  for (shm::Role r : {shm::Role::kSupervisor, shm::Role::kActor, shm::Role::kLearner,
                      shm::Role::kEvaluator, shm::Role::kRelay, shm::Role::kIngest}) {
    if (name == shm::role_name(r)) {
      *role = r;
      return true;
    }
  }
  return false;
}

// A metric name goes into the file only if it reads back as one token.
bool plain_name(const std::string& name) {
  if (name.empty() || name.size() > shm::kMaxMetricName) return false;
  for (char c : name) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

}  // namespace

std::string format_stats_snapshot(const std::vector<shm::SlotSnapshot>& slots) {
  std::string out = std::string(kMagic) + "\n";
  for (const shm::SlotSnapshot& s : slots) {
    if (s.role == shm::Role::kNone || s.role == shm::Role::kSupervisor) continue;
    out += fmt::format("slot {} {} {}", shm::role_name(s.role), s.index, s.restarts);
    for (const shm::MetricSnapshot& m : s.metrics) {
      if (!plain_name(m.name)) continue;
      out += fmt::format(" {} {} {}", m.kind == shm::MetricKind::kGauge ? "gauge" : "counter",
                         m.name, m.value);
    }
    out += "\n";
  }
  out += "end\n";
  return out;
}

std::vector<shm::SlotSnapshot> parse_stats_snapshot(const std::string& text,
                                                    const std::string& origin) {
  std::vector<shm::SlotSnapshot> slots;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  bool ended = false;
  auto fail = [&](const std::string& why) {
    return std::runtime_error(fmt::format("{} line {}: {}", origin, number, why));
  };
  while (std::getline(in, line)) {
    ++number;
    if (number == 1) {
      if (line != kMagic) throw fail(fmt::format("not a stats snapshot (expected '{}')", kMagic));
      continue;
    }
    if (ended) throw fail("text after 'end'");
    if (line == "end") {
      ended = true;
      continue;
    }
    std::istringstream fields(line);
    std::string word, role;
    shm::SlotSnapshot s{};
    if (!(fields >> word >> role >> s.index >> s.restarts) || word != "slot") {
      throw fail("expected 'slot <role> <index> <restarts> ...'");
    }
    if (!role_from_name(role, &s.role)) throw fail(fmt::format("unknown role '{}'", role));
    std::string kind;
    while (fields >> kind) {
      shm::MetricSnapshot m{};
      if (kind != "counter" && kind != "gauge")
        throw fail(fmt::format("unknown metric kind '{}'", kind));
      m.kind = kind == "gauge" ? shm::MetricKind::kGauge : shm::MetricKind::kCounter;
      if (!(fields >> m.name >> m.value)) throw fail("a metric needs a name and a value");
      if (!plain_name(m.name)) throw fail(fmt::format("bad metric name '{}'", m.name));
      s.metrics.push_back(std::move(m));
    }
    if (s.metrics.size() > static_cast<size_t>(shm::kMaxMetrics)) {
      throw fail(fmt::format("more than {} metrics in one slot", shm::kMaxMetrics));
    }
    for (const shm::SlotSnapshot& other : slots) {
      if (other.role == s.role && other.index == s.index) {
        throw fail(fmt::format("{} {} appears twice", role, s.index));
      }
    }
    slots.push_back(std::move(s));
  }
  if (number == 0) throw fail("empty file");
  if (!ended) throw fail("truncated (no 'end' line)");
  return slots;
}

void save_stats_snapshot(const shm::Segment& segment, const std::string& path) {
  write_text_atomically(path, format_stats_snapshot(shm::read_stats(segment)));
}

std::vector<shm::SlotSnapshot> load_stats_snapshot(const std::string& path) {
  std::string text;
  if (!read_text_file(path, &text)) return {};
  return parse_stats_snapshot(text, path);
}

int seed_stats(shm::Segment& segment, const std::vector<shm::SlotSnapshot>& slots) {
  int seeded = 0;
  for (const shm::SlotSnapshot& s : slots) {
    if (s.role == shm::Role::kNone || s.role == shm::Role::kSupervisor) continue;
    shm::seed_slot(segment, s);
    ++seeded;
  }
  return seeded;
}

}  // namespace rz::launch
