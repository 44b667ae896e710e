// Ingest: the learner host's end of the scale-out data plane (docs/scale-out.md).
//
// One process (`ringzero-ingest`, started by the supervisor of a run started with --serve)
// that:
//   - reads the record stream rz:records of the run's own redis-server through the consumer
//     group "ingest" (first its own pending entries, then new ones);
//   - checks every message: the envelope (scale_protocol.h), the protocol version, the size
//     (<= shm.max_record_bytes) and the record itself with decode_record(), the very check the
//     learner applies to every ring record; a refused message is counted by reason, logged
//     once per reason, acknowledged and deleted (it can never become valid);
//   - drops a record it already has (dedup by host, epoch, lane, sequence; IngestState) and
//     counts a skipped sequence as a gap;
//   - writes each accepted record into its own lane of the local ring (the last lane, after
//     the actors'), and only after the lane commit acknowledges it (XACK) and deletes it
//     (XDEL) from the stream: a crash before that gets it delivered again, and dedup drops it;
//   - publishes every new local weight version into rz:weights for the relays;
//   - writes RUN/hosts (the per-host counters and the relays' heartbeats) every second
//     for the monitor.
// A lost Redis connection is retried with backoff; the ring keeps working meanwhile.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/run_config.h"
#include "shm/segment.h"

namespace rz {

// Attaches to the run's segment (config.shm.name) and runs until the run stops: its stop flag,
// or `stop`, the process's stop word (SIGTERM, or the run's creator gone:
// common/role_process.h). Returns the exit code. Throws std::runtime_error (one line) on a
// setup problem, first of all an empty scale.serve.
int run_ingest(const RunConfig& config, uint32_t lane, std::atomic<uint32_t>* stop);

}  // namespace rz
