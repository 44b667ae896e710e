// What the monitor shows about scale-out (docs/scale-out.md), beside RunSnapshot:
//   learner host (run started with --serve): "hosts", one row per actor host, from RUN/hosts
//     (written every second by the ingest: its per-host counters and the relays' heartbeats),
//     and "ingest", the ingest's own stats slot (refusals by reason, reconnects);
//   actor host (launch.sh join): "relay", from the relay's stats slot.
// A host is alive when its relay's heartbeat changed within the last 5 s as seen by the
// ingest (the ingest's clock only: other machines' clocks never matter) and RUN/hosts itself
// is fresh (a dead ingest does not keep hosts alive).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "shm/segment.h"

namespace rz::launch {

struct HostRow {
  std::string host_id;
  uint64_t actors = 0;
  bool alive = false;
  double last_seen_s = -1;  // -1: never seen
  uint64_t epoch = 0, records_ingested = 0, duplicates_dropped = 0, sequence_gaps = 0;
  uint64_t weight_version = 0, records_sent = 0, records_acked = 0;
};

struct RelayRow {
  pid_t pid = 0;
  bool alive = false;
  std::string state;
  bool learner_reachable = false;
  uint64_t records_sent = 0, records_acked = 0, resends = 0, reconnects = 0;
  uint64_t weight_version = 0;
  double heartbeat_age_s = -1;
};

// A stats slot's metrics by name (the ingest's counters).
struct IngestRow {
  pid_t pid = 0;
  bool alive = false;
  std::vector<std::pair<std::string, double>> metrics;
};

struct ScaleSnapshot {
  bool serving = false;  // learner host
  std::vector<HostRow> hosts;
  std::optional<IngestRow> ingest;
  std::optional<RelayRow> relay;  // actor host
};

ScaleSnapshot take_scale_snapshot(const shm::Segment& segment, const std::string& run_dir);
// The JSON members to add to the monitor's object ("" when neither side of scale-out), each
// preceded by a comma: ,"hosts":[...],"ingest":{...}  or  ,"relay":{...}
std::string scale_json(const ScaleSnapshot& s);
// Table lines for the live monitor ("" when none).
std::string scale_table(const ScaleSnapshot& s);

}  // namespace rz::launch
