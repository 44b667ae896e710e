#include "launch/scale_snapshot.h"

#include <time.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/stat_names.h"
#include "launch/json_text.h"
#include "launch/process_liveness.h"
#include "shm/stats.h"

namespace rz::launch {

namespace {

constexpr double kHostAliveS = 5.0;

uint64_t unix_ms() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

std::string num(double v) {
  return fmt::format("{:.3f}", v);
}

uint64_t metric(const shm::SlotSnapshot& slot, const std::string& name) {
  for (const auto& m : slot.metrics)
    if (m.name == name)
      return m.kind == shm::MetricKind::kGauge ? static_cast<uint64_t>(m.gauge()) : m.value;
  return 0;
}

}  // namespace

ScaleSnapshot take_scale_snapshot(const shm::Segment& segment, const std::string& run_dir) {
  ScaleSnapshot s;
  const uint64_t now_ns = shm::now_monotonic_ns();
  for (const shm::SlotSnapshot& slot : shm::read_stats(segment)) {
    if (slot.role == shm::Role::kRelay) {
      RelayRow r;
      r.pid = static_cast<pid_t>(slot.pid);
      r.alive = process_alive(r.pid, "ringzero-");
      r.state = shm::state_name(slot.state);
      r.learner_reachable = r.alive && metric(slot, stat::relay::kLearnerReachable) != 0;
      r.records_sent = metric(slot, stat::relay::kRecordsSent);
      r.records_acked = metric(slot, stat::relay::kRecordsAcked);
      r.resends = metric(slot, stat::relay::kResends);
      r.reconnects = metric(slot, stat::relay::kReconnects);
      r.weight_version = metric(slot, stat::relay::kWeightVersion);
      if (slot.heartbeat_ns)
        r.heartbeat_age_s = (now_ns - std::min(now_ns, slot.heartbeat_ns)) / 1e9;
      s.relay = r;
    } else if (slot.role == shm::Role::kIngest) {
      IngestRow r;
      r.pid = static_cast<pid_t>(slot.pid);
      r.alive = process_alive(r.pid, "ringzero-");
      for (const auto& m : slot.metrics)
        r.metrics.emplace_back(
            m.name, m.kind == shm::MetricKind::kGauge ? m.gauge() : static_cast<double>(m.value));
      s.ingest = r;
      s.serving = true;
    }
  }
  if (run_dir.empty()) return s;
  std::ifstream in(run_dir + "/hosts");
  std::string line;
  if (!std::getline(in, line)) return s;
  s.serving = true;
  std::istringstream head(line);
  std::string magic;
  int version = 0;
  uint64_t written_ms = 0;
  head >> magic >> version >> written_ms;
  if (magic != "ringzero-hosts" || version != 1) return s;
  const uint64_t now = unix_ms();
  const bool fresh = now < written_ms + 5000;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    HostRow h;
    uint64_t seen_ms = 0;
    if (!(f >> h.host_id >> h.actors >> seen_ms >> h.epoch >> h.records_ingested >>
          h.duplicates_dropped >> h.sequence_gaps >> h.weight_version >> h.records_sent >>
          h.records_acked))
      continue;
    if (seen_ms) h.last_seen_s = now > seen_ms ? (now - seen_ms) / 1000.0 : 0.0;
    h.alive = fresh && seen_ms && h.last_seen_s < kHostAliveS;
    s.hosts.push_back(h);
  }
  return s;
}

std::string scale_json(const ScaleSnapshot& s) {
  std::string out;
  if (s.serving) {
    out += "," + json_array("hosts", s.hosts, [](const HostRow& h) {
             return fmt::format(
                 "{{\"host_id\":{},\"actors\":{},\"alive\":{},\"last_seen_s\":{},\"epoch\":{},"
                 "\"records_ingested\":{},\"duplicates_dropped\":{},\"sequence_gaps\":{},"
                 "\"weight_version\":{},\"records_sent\":{},\"records_acked\":{}}}",
                 json_string(h.host_id), h.actors, h.alive,
                 h.last_seen_s < 0 ? "null" : num(h.last_seen_s), h.epoch, h.records_ingested,
                 h.duplicates_dropped, h.sequence_gaps, h.weight_version, h.records_sent,
                 h.records_acked);
           });
    if (s.ingest) {
      out += fmt::format(",\"ingest\":{{\"pid\":{},\"alive\":{}", s.ingest->pid, s.ingest->alive);
      for (const auto& [name, value] : s.ingest->metrics)
        out += fmt::format(",{}:{}", json_string(name), num(value));
      out += "}";
    }
  }
  if (s.relay) {
    const RelayRow& r = *s.relay;
    out += fmt::format(
        ",\"relay\":{{\"pid\":{},\"alive\":{},\"state\":{},\"learner_reachable\":{},"
        "\"records_sent\":{},\"records_acked\":{},\"resends\":{},\"reconnects\":{},"
        "\"weight_version\":{},\"heartbeat_age_s\":{}}}",
        r.pid, r.alive, json_string(r.state), r.learner_reachable, r.records_sent, r.records_acked,
        r.resends, r.reconnects, r.weight_version,
        r.heartbeat_age_s < 0 ? "null" : num(r.heartbeat_age_s));
  }
  return out;
}

std::string scale_table(const ScaleSnapshot& s) {
  std::string out;
  if (s.serving) {
    out += fmt::format("{:<20} {:>6} {:>6} {:>9} {:>10} {:>6} {:>5} {:>8}\n", "host", "actors",
                       "alive", "seen s", "ingested", "dups", "gaps", "weights");
    for (const HostRow& h : s.hosts) {
      out += fmt::format(
          "{:<20} {:>6} {:>6} {:>9} {:>10} {:>6} {:>5} {:>8}\n", h.host_id, h.actors,
          h.alive ? "yes" : "NO", h.last_seen_s < 0 ? "-" : fmt::format("{:.1f}", h.last_seen_s),
          h.records_ingested, h.duplicates_dropped, h.sequence_gaps, h.weight_version);
    }
  }
  if (s.relay) {
    const RelayRow& r = *s.relay;
    out +=
        fmt::format("relay pid {} {} learner {} sent {} acked {} weights v{}\n", r.pid,
                    r.alive ? "alive" : "DEAD", r.learner_reachable ? "reachable" : "UNREACHABLE",
                    r.records_sent, r.records_acked, r.weight_version);
  }
  return out;
}

}  // namespace rz::launch
