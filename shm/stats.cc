#include "shm/stats.h"

#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <iterator>

#include "shm/layout.h"

namespace rz::shm {

namespace {
StatsSlot* slots_of(const Segment& s) {
  return reinterpret_cast<StatsSlot*>(s.base() + s.layout().stats);
}
uint64_t key_of(Role role, uint32_t index) {
  return uint64_t(role) << 32 | index;
}
}  // namespace

namespace {
// Indexed by the enums' values (a value read from shared memory outside them is "unknown").
constexpr const char* kRoleNames[] = {"none",      "supervisor", "actor", "learner",
                                      "evaluator", "relay",      "ingest"};
constexpr const char* kStateNames[] = {"empty", "starting", "running", "stopping", "exited"};
static_assert(std::size(kRoleNames) == size_t(Role::kIngest) + 1, "one name per Role");
static_assert(std::size(kStateNames) == size_t(ProcessState::kExited) + 1,
              "one name per ProcessState");

template <size_t N>
const char* name_of(const char* const (&names)[N], uint32_t value) {
  return value < N ? names[value] : "unknown";
}
}  // namespace

const char* role_name(Role role) {
  return name_of(kRoleNames, uint32_t(role));
}

const char* state_name(ProcessState state) {
  return name_of(kStateNames, uint32_t(state));
}

uint64_t now_monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

StatsWriter::StatsWriter(Segment& segment, Role role, uint32_t index) {
  if (segment.read_only())
    throw ShmError(
        fmt::format("cannot write stats into {}: the segment is mapped read-only", segment.name()));
  if (role == Role::kNone)
    throw ShmError("StatsWriter needs a role other than kNone: pass the process's role");
  StatsSlot* slots = slots_of(segment);
  const uint32_t n = segment.sizes().stats_slots;
  const uint64_t key = key_of(role, index);
  slot_ = nullptr;
  bool restarted = false;
  // First our own slot from an earlier life; then the first free one, claimed by CAS so
  // that two processes never claim the same free slot (a lost CAS re-checks that slot: it
  // may have been claimed for our own key).
  for (uint32_t i = 0; i < n && !slot_; ++i)
    if (slots[i].key.load(std::memory_order_acquire) == key) {
      slot_ = &slots[i], slot_index_ = i, restarted = true;
    }
  for (uint32_t i = 0; i < n && !slot_; ++i) {
    uint64_t expected = 0;
    if (slots[i].key.compare_exchange_strong(expected, key, std::memory_order_acq_rel)) {
      slot_ = &slots[i], slot_index_ = i;
    } else if (expected == key) {
      slot_ = &slots[i], slot_index_ = i, restarted = true;
    }
  }
  if (!slot_)
    throw ShmError(
        fmt::format("the stats table of {} is full ({} slots): start the run with "
                    "more stats_slots",
                    segment.name(), n));
  // A seeded slot (seed_slot: pid still 0) was never owned in this segment: its first owner
  // is a start, not a restart.
  if (restarted && slot_->pid.load(std::memory_order_relaxed) != 0)
    slot_->restarts.fetch_add(1, std::memory_order_relaxed);
  slot_->pid.store(uint32_t(::getpid()), std::memory_order_relaxed);
  set_state(ProcessState::kStarting);
  heartbeat();
}

int StatsWriter::metric(const char* name, MetricKind kind) {
  size_t len = std::strlen(name);
  if (len == 0 || len > kMaxMetricName)
    throw ShmError(fmt::format("metric name '{}' must be 1 to {} characters: shorten it", name,
                               kMaxMetricName));
  uint32_t count = slot_->metric_count.load(std::memory_order_relaxed);  // only we write it
  if (count > uint32_t(kMaxMetrics))  // never trust shared memory: a damaged slot
    throw ShmError(
        fmt::format("stats slot {} is damaged (metric_count {} > {}): stop the run "
                    "and start it again with --resume",
                    slot_index_, count, kMaxMetrics));
  for (uint32_t i = 0; i < count; ++i)
    if (std::strncmp(slot_->metrics[i].name, name, sizeof slot_->metrics[i].name) == 0)
      return int(i);
  if (count >= uint32_t(kMaxMetrics))
    throw ShmError(
        fmt::format("cannot register metric '{}': a stats slot holds at most {} "
                    "metrics",
                    name, kMaxMetrics));
  std::memset(slot_->metrics[count].name, 0, sizeof slot_->metrics[count].name);
  std::memcpy(slot_->metrics[count].name, name, len);
  slot_->kinds[count].store(uint32_t(kind), std::memory_order_relaxed);
  // release: readers that see the new count see the complete name and kind.
  slot_->metric_count.store(count + 1, std::memory_order_release);
  return int(count);
}

void StatsWriter::add(int handle, uint64_t n) {
  // Single writer: a load + store is enough and avoids a locked instruction.
  auto& v = slot_->metrics[handle].value;
  v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
void StatsWriter::set(int handle, uint64_t v) {
  slot_->metrics[handle].value.store(v, std::memory_order_relaxed);
}
void StatsWriter::set_gauge(int handle, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  set(handle, bits);
}
uint64_t StatsWriter::get(int handle) const {
  return slot_->metrics[handle].value.load(std::memory_order_relaxed);
}
void StatsWriter::heartbeat() {
  slot_->heartbeat_ns.store(now_monotonic_ns(), std::memory_order_relaxed);
}
void StatsWriter::set_state(ProcessState state) {
  slot_->state.store(uint32_t(state), std::memory_order_relaxed);
}
uint32_t StatsWriter::restarts() const {
  return slot_->restarts.load(std::memory_order_relaxed);
}

double MetricSnapshot::gauge() const {
  double d;
  std::memcpy(&d, &value, sizeof d);
  return d;
}

uint64_t SlotSnapshot::value(const std::string& name, uint64_t fallback) const {
  for (const auto& m : metrics)
    if (m.name == name) return m.value;
  return fallback;
}

namespace {
// One claimed slot (`key` already loaded with acquire), copied out of shared memory.
SlotSnapshot snapshot_of(uint32_t index, uint64_t key, const StatsSlot& s) {
  SlotSnapshot snap;
  snap.slot = index;
  snap.role = Role(key >> 32);
  snap.index = uint32_t(key);
  snap.pid = s.pid.load(std::memory_order_relaxed);
  snap.state = ProcessState(s.state.load(std::memory_order_relaxed));
  snap.heartbeat_ns = s.heartbeat_ns.load(std::memory_order_relaxed);
  snap.restarts = s.restarts.load(std::memory_order_relaxed);
  // acquire: names [0, count) are complete.
  uint32_t count = s.metric_count.load(std::memory_order_acquire);
  if (count > uint32_t(kMaxMetrics)) count = kMaxMetrics;  // never trust shared memory
  for (uint32_t m = 0; m < count; ++m) {
    MetricSnapshot ms;
    ms.name.assign(s.metrics[m].name, strnlen(s.metrics[m].name, sizeof s.metrics[m].name));
    ms.kind = MetricKind(s.kinds[m].load(std::memory_order_relaxed));
    ms.value = s.metrics[m].value.load(std::memory_order_relaxed);
    snap.metrics.push_back(std::move(ms));
  }
  return snap;
}
}  // namespace

std::vector<SlotSnapshot> read_stats(const Segment& segment) {
  std::vector<SlotSnapshot> out;
  const StatsSlot* slots = slots_of(segment);
  for (uint32_t i = 0; i < segment.sizes().stats_slots; ++i)
    if (const uint64_t key = slots[i].key.load(std::memory_order_acquire))
      out.push_back(snapshot_of(i, key, slots[i]));
  return out;
}

void seed_slot(Segment& segment, const SlotSnapshot& seed) {
  if (segment.read_only())
    throw ShmError(
        fmt::format("cannot seed stats in {}: the segment is mapped read-only", segment.name()));
  if (seed.role == Role::kNone) throw ShmError("seed_slot needs a role other than kNone");
  if (seed.metrics.size() > size_t(kMaxMetrics))
    throw ShmError(fmt::format("cannot seed {} metrics: a stats slot holds at most {}",
                               seed.metrics.size(), kMaxMetrics));
  for (const MetricSnapshot& m : seed.metrics)
    if (m.name.empty() || m.name.size() > kMaxMetricName)
      throw ShmError(fmt::format("cannot seed metric '{}': names are 1 to {} characters", m.name,
                                 kMaxMetricName));
  StatsSlot* slots = slots_of(segment);
  const uint32_t n = segment.sizes().stats_slots;
  const uint64_t key = key_of(seed.role, seed.index);
  for (uint32_t i = 0; i < n; ++i)
    if (slots[i].key.load(std::memory_order_acquire) == key)
      throw ShmError(fmt::format("cannot seed the stats slot of {} {}: it is already claimed",
                                 role_name(seed.role), seed.index));
  StatsSlot* slot = nullptr;
  for (uint32_t i = 0; i < n && !slot; ++i) {
    uint64_t expected = 0;
    if (slots[i].key.compare_exchange_strong(expected, key, std::memory_order_acq_rel))
      slot = &slots[i];
  }
  if (!slot)
    throw ShmError(
        fmt::format("the stats table of {} is full ({} slots): start the run with "
                    "more stats_slots",
                    segment.name(), n));
  slot->pid.store(0, std::memory_order_relaxed);  // 0 = seeded, never owned (see StatsWriter)
  slot->state.store(uint32_t(ProcessState::kEmpty), std::memory_order_relaxed);
  slot->restarts.store(seed.restarts, std::memory_order_relaxed);
  slot->heartbeat_ns.store(0, std::memory_order_relaxed);
  for (size_t m = 0; m < seed.metrics.size(); ++m) {
    std::memset(slot->metrics[m].name, 0, sizeof slot->metrics[m].name);
    std::memcpy(slot->metrics[m].name, seed.metrics[m].name.data(), seed.metrics[m].name.size());
    slot->kinds[m].store(uint32_t(seed.metrics[m].kind), std::memory_order_relaxed);
    slot->metrics[m].value.store(seed.metrics[m].value, std::memory_order_relaxed);
  }
  // release: a reader that sees the count sees the complete names, kinds and values.
  slot->metric_count.store(uint32_t(seed.metrics.size()), std::memory_order_release);
}

}  // namespace rz::shm
