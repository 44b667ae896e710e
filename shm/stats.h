// Stats: a fixed table of per-process slots that anyone can read and only the owner writes.
//
// Each slot holds the owner's role, index, pid, heartbeat (CLOCK_MONOTONIC ns, comparable
// across processes of one machine; see now_monotonic_ns()), state, restart count and up to
// 32 named metrics (name <= 23 chars; counters as u64, gauges as double bits). Every value
// is a relaxed 4- or 8-byte atomic: a reader may see a slightly stale value, never a torn
// one, and a process killed mid-update leaves each value old or new.
//
// A slot is keyed by (role, index). A restarted process gets the SAME slot back with its
// counters intact (counters are cumulative across restarts) and its restart count
// incremented. Metric names are registered once (name bytes first, then the count with
// release), so readers see only complete names.
//
// Across segments (a run stopped and resumed gets a new segment), seed_slot() carries a slot
// over: the supervisor saves every slot at stop and seeds the new table from it before any
// process starts, so counters are cumulative over the whole run, not one segment's life.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shm/segment.h"

namespace rz::shm {

// kRelay / kIngest: the scale-out processes (docs/scale-out.md); appended, so the values of
// the others never change.
enum class Role : uint32_t {
  kNone = 0,
  kSupervisor,
  kActor,
  kLearner,
  kEvaluator,
  kRelay,
  kIngest
};
enum class ProcessState : uint32_t { kEmpty = 0, kStarting, kRunning, kStopping, kExited };
enum class MetricKind : uint32_t { kCounter = 0, kGauge = 1 };

constexpr int kMaxMetrics = 32;
constexpr size_t kMaxMetricName = 23;

const char* role_name(Role role);
const char* state_name(ProcessState state);
uint64_t now_monotonic_ns();

class StatsWriter {
 public:
  // Finds the slot of (role, index) or claims a free one; throws ShmError if the table is
  // full. Sets pid, state kStarting and a first heartbeat.
  StatsWriter(Segment& segment, Role role, uint32_t index);

  // Handle of the metric `name` (registered on first use). Throws ShmError if the name is
  // longer than 23 characters or the slot already has 32 metrics.
  int metric(const char* name, MetricKind kind = MetricKind::kCounter);
  int gauge(const char* name) { return metric(name, MetricKind::kGauge); }
  void add(int handle, uint64_t n);
  void set(int handle, uint64_t v);
  void set_gauge(int handle, double v);
  uint64_t get(int handle) const;
  void heartbeat();
  void set_state(ProcessState state);
  uint32_t restarts() const;
  uint32_t slot_index() const { return slot_index_; }

 private:
  struct StatsSlot* slot_;
  uint32_t slot_index_;
};

struct MetricSnapshot {
  std::string name;
  MetricKind kind;
  uint64_t value;        // counter value or gauge bits
  double gauge() const;  // value as a double (gauges)
};

struct SlotSnapshot {
  uint32_t slot;
  Role role;
  uint32_t index;
  uint32_t pid;
  ProcessState state;
  uint64_t heartbeat_ns;  // CLOCK_MONOTONIC ns
  uint32_t restarts;
  std::vector<MetricSnapshot> metrics;
  // Value of metric `name` or `fallback` if absent.
  uint64_t value(const std::string& name, uint64_t fallback = 0) const;
};

// Every claimed slot, in slot order. Works on a read-only mapping.
std::vector<SlotSnapshot> read_stats(const Segment& segment);

// Claims the slot of (seed.role, seed.index) and fills it with seed's restart count and
// metrics (names, kinds, values; pid 0, state kEmpty, no heartbeat). The process that later
// constructs a StatsWriter for that key gets the slot with those values, and that first
// claim is not counted as a restart (the slot's pid is still 0). Call it before any process
// of that role runs: it is not safe against a concurrent StatsWriter of the same key.
// Throws ShmError (one line) if the key is already claimed, the table is full, the role is
// kNone, or a metric name or count is invalid.
void seed_slot(Segment& segment, const SlotSnapshot& seed);

}  // namespace rz::shm
