#include "launch/run_snapshot.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "common/stat_names.h"
#include "launch/json_text.h"
#include "launch/process_liveness.h"
#include "shm/stats.h"
#include "shm/trajectory_ring.h"

namespace rz::launch {

namespace {

constexpr double kStaleHeartbeatS = 10.0;

std::optional<double> gauge_of(const shm::SlotSnapshot& slot, const std::string& name) {
  for (const shm::MetricSnapshot& m : slot.metrics) {
    if (m.name == name) {
      return m.kind == shm::MetricKind::kGauge ? m.gauge() : static_cast<double>(m.value);
    }
  }
  return std::nullopt;
}

// A metric as an integer whether it was published as a counter or a gauge.
uint64_t count_of(const shm::SlotSnapshot& slot, const std::string& name) {
  for (const shm::MetricSnapshot& m : slot.metrics) {
    if (m.name != name) continue;
    if (m.kind == shm::MetricKind::kCounter) return m.value;
    const double v = m.gauge();
    return std::isfinite(v) && v > 0 ? static_cast<uint64_t>(std::llround(v)) : 0;
  }
  return 0;
}

double heartbeat_age(const shm::SlotSnapshot& slot, uint64_t now_ns) {
  if (slot.heartbeat_ns == 0) return -1;
  return now_ns > slot.heartbeat_ns ? (now_ns - slot.heartbeat_ns) / 1e9 : 0.0;
}

// The counters each row shows, by the metric name its process publishes (the names
// run_snapshot.h lists).
constexpr std::pair<uint64_t ActorRow::*, const char*> kActorCounters[] = {
    {&ActorRow::games, stat::actor::kGames},
    {&ActorRow::positions, stat::actor::kPositions},
    {&ActorRow::records_committed, stat::actor::kRecordsCommitted},
    {&ActorRow::simulations, stat::actor::kSimulations},
    {&ActorRow::weight_version, stat::actor::kWeightVersion},
    {&ActorRow::eval_lookups, stat::actor::kEvalLookups},
    {&ActorRow::eval_saved, stat::actor::kEvalSaved}};
constexpr std::pair<uint64_t LearnerRow::*, const char*> kLearnerCounters[] = {
    {&LearnerRow::step, stat::learner::kStep},
    {&LearnerRow::published_version, stat::learner::kPublishedVersion},
    {&LearnerRow::records_consumed, stat::learner::kRecordsConsumed},
    {&LearnerRow::replay_positions, stat::learner::kReplayPositions},
    {&LearnerRow::samples, stat::learner::kSamplesTrained}};

// Who a stats slot's process is and what it reports of itself.
void read_process(const shm::SlotSnapshot& slot, uint64_t now_ns, ProcessRow* row) {
  row->pid = static_cast<pid_t>(slot.pid);
  row->state = shm::state_name(slot.state);
  row->heartbeat_age_s = heartbeat_age(slot, now_ns);
  row->restarts = slot.restarts;
}

// The supervisor's view wins for pids it knows (a process that died before claiming its
// slot), restart counts (kept across generations) and notes (why it gave up).
void apply_role_record(const RoleRecord& record, ProcessRow* row) {
  if (record.pid > 0) row->pid = record.pid;
  row->restarts = std::max(row->restarts, record.restarts);
  if (record.state != "running") row->state = record.state;
  row->note = record.note;
}

}  // namespace

std::string run_info_value(const std::string& run_info, const std::string& key) {
  std::istringstream in(run_info);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size() + 1, key + "=") == 0) return line.substr(key.size() + 1);
  }
  return "";
}

RunSnapshot take_snapshot(const shm::Segment& segment, const std::string& run_dir_path) {
  RunSnapshot s;
  s.steady_ns = shm::now_monotonic_ns();
  const std::string info = segment.run_info();
  s.shm_name = segment.name();
  s.game = run_info_value(info, "game");
  s.run_dir = run_dir_path.empty() ? run_info_value(info, "run_dir") : run_dir_path;
  const shm::ControlBlock& control = segment.control();
  s.generation = control.generation.load(std::memory_order_acquire);
  s.stop_requested = control.stop_requested();
  s.supervisor_pid = static_cast<pid_t>(control.supervisor_pid.load(std::memory_order_relaxed));
  s.supervisor_alive = segment.creator_alive();
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const uint64_t wall_ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
  s.uptime_s = wall_ns > segment.start_time_ns() ? (wall_ns - segment.start_time_ns()) / 1e9 : 0;

  std::map<std::string, RoleRecord> roles;
  if (!s.run_dir.empty()) roles = read_role_records(RunDir(s.run_dir));

  uint32_t lanes = segment.sizes().lanes;
  // A learner host's last lane is the ingest's (scale-out): not an actor.
  const std::string ingest_lane = run_info_value(segment.run_info(), "ingest_lane");
  if (!ingest_lane.empty() && std::stoul(ingest_lane) < lanes)
    lanes = static_cast<uint32_t>(std::stoul(ingest_lane));
  s.actors.resize(lanes);
  for (uint32_t k = 0; k < lanes; ++k) {
    s.actors[k].slot = k;
    s.actors[k].state = "absent";
  }
  s.learner.state = "absent";

  for (const shm::SlotSnapshot& slot : shm::read_stats(segment)) {
    if (slot.role == shm::Role::kActor && slot.index < lanes) {
      ActorRow& a = s.actors[slot.index];
      read_process(slot, s.steady_ns, &a);
      for (const auto& [field, name] : kActorCounters) a.*field = count_of(slot, name);
      // The actor's own rate gauges; the live monitor replaces them by interval rates.
      a.positions_per_s = gauge_of(slot, stat::actor::kPositionsPerS).value_or(0);
      a.simulations_per_s = gauge_of(slot, stat::actor::kSimsPerS).value_or(0);
      a.eval_cache_hit_rate = gauge_of(slot, stat::actor::kEvalCacheHitRate).value_or(0);
      if (const auto bf16 = gauge_of(slot, stat::actor::kPrecisionBf16))
        a.precision = *bf16 != 0 ? "bf16" : "fp32";
    } else if (slot.role == shm::Role::kLearner) {
      LearnerRow& l = s.learner;
      read_process(slot, s.steady_ns, &l);
      for (const auto& [field, name] : kLearnerCounters) l.*field = count_of(slot, name);
      l.loss_policy = gauge_of(slot, stat::learner::kLossPolicy);
      l.loss_value = gauge_of(slot, stat::learner::kLossValue);
      const auto cuda = gauge_of(slot, stat::learner::kDeviceCuda);
      if (cuda) l.device = *cuda != 0 ? "cuda" : "cpu";
    } else if (slot.role == shm::Role::kEvaluator) {
      EvaluatorRow e;
      e.index = slot.index;
      read_process(slot, s.steady_ns, &e);
      // The evaluator's last result, shown on the learner's line (it judges the learner's
      // weights); the learner itself keeps no such gauge.
      if (slot.index == 0) {
        s.learner.eval_version = gauge_of(slot, stat::eval::kVersion);
        s.learner.eval_score = gauge_of(slot, stat::eval::kScore);
      }
      for (const shm::MetricSnapshot& m : slot.metrics) {
        e.metrics.emplace_back(
            m.name, m.kind == shm::MetricKind::kGauge ? m.gauge() : static_cast<double>(m.value));
      }
      s.evaluators.push_back(std::move(e));
    }
  }

  for (ActorRow& a : s.actors) {
    auto it = roles.find(fmt::format("actor-{}", a.slot));
    if (it != roles.end()) apply_role_record(it->second, &a);
  }
  if (auto it = roles.find("learner"); it != roles.end()) apply_role_record(it->second, &s.learner);
  // The supervisor's evaluator ("eval") is evaluator 0; it may not have claimed its slot yet.
  if (auto it = roles.find("eval"); it != roles.end()) {
    auto e = std::find_if(s.evaluators.begin(), s.evaluators.end(),
                          [](const EvaluatorRow& row) { return row.index == 0; });
    if (e == s.evaluators.end()) {
      s.evaluators.insert(s.evaluators.begin(), EvaluatorRow{});
      e = s.evaluators.begin();
      e->state = "absent";
    }
    apply_role_record(it->second, &*e);
  }
  // A slot carried over from an earlier generation that no process owns in this one (pid 0:
  // say, the evaluator of a run resumed without one) is kept for its counters, not shown.
  s.evaluators.erase(std::remove_if(s.evaluators.begin(), s.evaluators.end(),
                                    [](const EvaluatorRow& e) { return e.pid == 0; }),
                     s.evaluators.end());
  for (ActorRow& a : s.actors) a.alive = process_alive(a.pid, "ringzero-");
  s.learner.alive = process_alive(s.learner.pid, "ringzero-");
  for (EvaluatorRow& e : s.evaluators) e.alive = process_alive(e.pid, "ringzero-");

  for (const shm::LaneStatus& lane : shm::lane_status(segment)) {
    LaneRow row;
    row.lane = lane.lane;
    row.records_committed = lane.records_committed;
    row.records_in_flight =
        lane.records_committed - std::min(lane.records_committed, lane.records_consumed);
    row.bytes_in_flight = lane.bytes_in_flight;
    row.fill =
        static_cast<double>(lane.bytes_in_flight) / static_cast<double>(segment.sizes().lane_bytes);
    s.records_in_flight += row.records_in_flight;
    s.bytes_in_flight += row.bytes_in_flight;
    s.records_committed += row.records_committed;
    s.lanes.push_back(row);
  }
  s.scale = take_scale_snapshot(segment, s.run_dir);
  if (!ingest_lane.empty()) s.scale.serving = true;
  return s;
}

void compute_rates(const RunSnapshot& before, RunSnapshot* now) {
  const double dt = (now->steady_ns - before.steady_ns) / 1e9;
  if (dt <= 0) return;
  auto rate = [dt](uint64_t a, uint64_t b) { return b >= a ? (b - a) / dt : 0.0; };
  for (ActorRow& a : now->actors) {
    if (a.slot >= before.actors.size() || a.pid != before.actors[a.slot].pid) continue;
    const ActorRow& p = before.actors[a.slot];
    a.positions_per_s = rate(p.positions, a.positions);
    a.simulations_per_s = rate(p.simulations, a.simulations);
    if (a.eval_lookups > p.eval_lookups && a.eval_saved >= p.eval_saved)
      a.eval_cache_hit_rate =
          double(a.eval_saved - p.eval_saved) / double(a.eval_lookups - p.eval_lookups);
  }
  now->learner.samples_per_s = rate(before.learner.samples, now->learner.samples);
  now->records_per_s = rate(before.records_committed, now->records_committed);
  now->has_rates = true;
}

std::string snapshot_json(const RunSnapshot& s) {
  std::string out = "{";
  out += fmt::format(
      "\"run\":{{\"dir\":{},\"shm\":{},\"game\":{},\"generation\":{},\"uptime_s\":{},"
      "\"supervisor_pid\":{},\"supervisor_alive\":{},\"stop_requested\":{}}},",
      json_string(s.run_dir), json_string(s.shm_name), json_string(s.game), s.generation,
      json_number(s.uptime_s), s.supervisor_pid, s.supervisor_alive, s.stop_requested);
  out += json_array("actors", s.actors, [](const ActorRow& a) {
    return fmt::format(
        "{{\"slot\":{},\"pid\":{},\"alive\":{},\"state\":{},\"games\":{},\"positions\":{},"
        "\"records_committed\":{},\"simulations\":{},\"weight_version\":{},"
        "\"heartbeat_age_s\":{},\"restarts\":{},\"positions_per_s\":{},"
        "\"simulations_per_s\":{},\"eval_lookups\":{},\"eval_saved\":{},"
        "\"eval_cache_hit_rate\":{},\"precision\":{},\"note\":{}}}",
        a.slot, a.pid, a.alive, json_string(a.state), a.games, a.positions, a.records_committed,
        a.simulations, a.weight_version,
        a.heartbeat_age_s < 0 ? "null" : json_number(a.heartbeat_age_s), a.restarts,
        json_number(a.positions_per_s), json_number(a.simulations_per_s), a.eval_lookups,
        a.eval_saved, json_number(a.eval_cache_hit_rate), json_string(a.precision),
        json_string(a.note));
  });
  const LearnerRow& l = s.learner;
  out += ",";
  out += fmt::format(
      "\"learner\":{{\"pid\":{},\"alive\":{},\"state\":{},\"step\":{},\"published_version\":{},"
      "\"records_consumed\":{},\"replay_positions\":{},\"samples\":{},\"loss_policy\":{},"
      "\"loss_value\":{},\"device\":{},\"heartbeat_age_s\":{},\"restarts\":{},"
      "\"samples_per_s\":{},\"eval_version\":{},\"eval_score\":{},\"note\":{}}},",
      l.pid, l.alive, json_string(l.state), l.step, l.published_version, l.records_consumed,
      l.replay_positions, l.samples, json_optional(l.loss_policy), json_optional(l.loss_value),
      json_string(l.device), l.heartbeat_age_s < 0 ? "null" : json_number(l.heartbeat_age_s),
      l.restarts, s.has_rates ? json_number(l.samples_per_s) : "null",
      json_optional(l.eval_version), json_optional(l.eval_score), json_string(l.note));
  out += json_array("evaluators", s.evaluators, [](const EvaluatorRow& e) {
    std::string metrics;
    for (size_t j = 0; j < e.metrics.size(); ++j) {
      metrics += fmt::format("{}{}:{}", j ? "," : "", json_string(e.metrics[j].first),
                             json_number(e.metrics[j].second));
    }
    return fmt::format(
        "{{\"index\":{},\"pid\":{},\"alive\":{},\"state\":{},\"heartbeat_age_s\":{},"
        "\"restarts\":{},\"note\":{},\"metrics\":{{{}}}}}",
        e.index, e.pid, e.alive, json_string(e.state),
        e.heartbeat_age_s < 0 ? "null" : json_number(e.heartbeat_age_s), e.restarts,
        json_string(e.note), metrics);
  });
  out += fmt::format(
      ",\"ring\":{{\"records_in_flight\":{},\"bytes_in_flight\":{},"
      "\"records_committed\":{},\"records_per_s\":{},",
      s.records_in_flight, s.bytes_in_flight, s.records_committed,
      s.has_rates ? json_number(s.records_per_s) : "null");
  out += json_array("lanes", s.lanes, [](const LaneRow& r) {
    return fmt::format(
        "{{\"lane\":{},\"records_in_flight\":{},\"bytes_in_flight\":{},"
        "\"records_committed\":{},\"fill\":{}}}",
        r.lane, r.records_in_flight, r.bytes_in_flight, r.records_committed, json_number(r.fill));
  });
  out += "}";
  out += scale_json(s.scale);
  out += "}";
  return out;
}

std::string snapshot_table(const RunSnapshot& s, bool ansi) {
  const char* red = ansi ? "\033[31m" : "";
  const char* yellow = ansi ? "\033[33m" : "";
  const char* bold = ansi ? "\033[1m" : "";
  const char* reset = ansi ? "\033[0m" : "";
  auto age_text = [&](double age, bool alive) {
    if (age < 0) return std::string("-");
    const bool stale = age > kStaleHeartbeatS || !alive;
    return fmt::format("{}{:.1f}s{}", stale ? yellow : "", age, stale ? reset : "");
  };
  auto alive_text = [&](bool alive) {
    return alive ? std::string("alive") : fmt::format("{}DEAD{}", red, reset);
  };
  std::string out;
  const int up = static_cast<int>(s.uptime_s);
  out += fmt::format(
      "{}ringzero{} {}  game {}  generation {}  up {}h{:02}m{:02}s  supervisor {} {}{}\n", bold,
      reset, s.run_dir, s.game, s.generation, up / 3600, up / 60 % 60, up % 60, s.supervisor_pid,
      alive_text(s.supervisor_alive), s.stop_requested ? "  (stopping)" : "");
  out += fmt::format(
      "{}{:<9} {:>7} {:<6} {:<9} {:>7} {:>9} {:>8} {:>10} {:>6} {:>4} {:>7} {:>7} {:>4}{}\n", bold,
      "actor", "pid", "proc", "state", "games", "positions", "pos/s", "sims/s", "cache", "prec",
      "weights", "beat", "rst", reset);
  for (const ActorRow& a : s.actors) {
    const std::string cache =
        a.eval_lookups ? fmt::format("{:.0f}%", 100 * a.eval_cache_hit_rate) : std::string("-");
    out += fmt::format(
        "{:<9} {:>7} {:<6} {:<9} {:>7} {:>9} {:>8.1f} {:>10.0f} {:>6} {:>4} {:>7} {:>7} {:>4}\n",
        fmt::format("actor-{}", a.slot), a.pid, alive_text(a.alive), a.state, a.games, a.positions,
        a.positions_per_s, a.simulations_per_s, cache, a.precision, a.weight_version,
        age_text(a.heartbeat_age_s, a.alive), a.restarts);
    if (!a.note.empty()) out += fmt::format("          {}{}{}\n", red, a.note, reset);
  }
  const LearnerRow& l = s.learner;
  // Until the learner has trained (in this process) its loss gauges exist but read 0, which
  // no cross-entropy ever is.
  auto loss = [&l](const std::optional<double>& v) {
    return v && l.step > 0 && *v != 0 ? fmt::format("{:.3f}", *v) : std::string("-");
  };
  const std::string samples_rate = s.has_rates ? fmt::format("{:.0f}", l.samples_per_s) : "-";
  // An actor host (scale-out join) has no learner: its relay row (below) takes its place.
  if (!s.scale.relay)
    out += fmt::format(
        "{}learner{}   pid {} {}  state {}  step {}  loss p {} v {}  samples/s {}  "
        "replay {}  published v{}  device {}  beat {}  restarts {}\n",
        bold, reset, l.pid, alive_text(l.alive), l.state, l.step, loss(l.loss_policy),
        loss(l.loss_value), samples_rate, l.replay_positions, l.published_version, l.device,
        age_text(l.heartbeat_age_s, l.alive), l.restarts);
  if (!l.note.empty()) out += fmt::format("          {}{}{}\n", red, l.note, reset);
  std::string fills;
  for (const LaneRow& r : s.lanes) fills += fmt::format(" {}:{:.0f}%", r.lane, r.fill * 100);
  const std::string throughput =
      s.has_rates ? fmt::format("  records/s {:.1f}", s.records_per_s) : "";
  out += fmt::format(
      "{}ring{}      committed {}  consumed by learner {}  in flight {} ({:.1f} KiB){}  "
      "lane fill{}\n",
      bold, reset, s.records_committed, l.records_consumed, s.records_in_flight,
      s.bytes_in_flight / 1024.0, throughput, fills);
  for (const EvaluatorRow& e : s.evaluators) {
    std::string metrics;
    for (const auto& [name, value] : e.metrics) metrics += fmt::format("  {} {:.4g}", name, value);
    out += fmt::format("{}eval-{}{}    pid {} {}  state {}  beat {}  restarts {}{}\n", bold,
                       e.index, reset, e.pid, alive_text(e.alive), e.state,
                       age_text(e.heartbeat_age_s, e.alive), e.restarts, metrics);
    if (!e.note.empty()) out += fmt::format("          {}{}{}\n", red, e.note, reset);
  }
  if (l.eval_score) {
    out += fmt::format("{}eval{}      weights v{:.0f} score {:.3f}\n", bold, reset,
                       l.eval_version.value_or(0), *l.eval_score);
  }
  out += scale_table(s.scale);
  return out;
}

}  // namespace rz::launch
