// Relay: an actor host's link to the learner host (docs/scale-out.md). One process per actor
// host (`ringzero-relay`, started by the supervisor of `launch.sh join`), in the place the
// learner has on a learner host: it is the local ring's consumer.
//
//   - Records: reads committed records from every local lane WITHOUT releasing them
//     (RingReader::read_ahead), sends them pipelined to the learner host's stream rz:records
//     (XADD, up to 256 records / 4 MiB per round trip, in one MULTI/EXEC: a refusal refuses
//     the whole batch, so a resend never follows an accepted later sequence of its lane),
//     and releases them from their lanes only once EXEC answered for all of them. The learner
//     host's redis-server runs with appendfsync always, so an XADD reply means the record is in its
//     AOF on disk: released records are durable there. A relay killed (or a connection lost) with a
//     batch in flight leaves those records in the lanes: they are sent again, and the ingest's
//     dedup (host, epoch, lane, sequence) drops the copies. The epoch is the join's
//     (RUN/host.epoch, taken from rz:epoch:<id> on the learner host): unique per host id. Why not
//     an end-to-end ack from the ingest: it would hold lane space for the ingest's latency too (and
//     for its outages), while the AOF already gives durability; see docs/scale-out.md.
//   - Weights: polls rz:weights every 200 ms and publishes a newer version into the local
//     WeightSlot with the learner host's version number, so local actors switch as usual.
//   - Heartbeat: every second rz:host:<id> gets the counters below and the host-id claim
//     rz:hostlock:<id> is refreshed (a second join with the same id is refused).
//   - Back-pressure: while the stream holds more than 200000 undelivered entries (the ingest
//     is down), nothing more is sent; lanes fill and the actors block, as on one host.
//   - Outages: reconnects by itself (backoff 100 ms doubling to 2 s); SIGSTOP/SIGCONT is an
//     outage like any other.
//   - Stop: after SIGTERM it keeps sending until the actors have exited and the lanes are
//     empty (at most 8 s), so a clean stop leaves nothing behind in the lanes.
// Stats slot (role relay, 0): records_sent, records_acked, resends, reconnects,
// lane_committed / lane_released (sums over the lanes of this segment), gauges
// learner_reachable (0/1), weight_version.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/run_config.h"
#include "shm/segment.h"

namespace rz {

// Attaches to the run's segment (config.shm.name) and runs until the run stops: its stop flag,
// or `interrupted`, the process's stop word (SIGTERM, or the run's creator gone:
// common/role_process.h); then drains (see Stop above). Returns the exit code. Throws
// std::runtime_error (one line) on a setup problem, first of all an empty scale.learner.
int run_relay(const RunConfig& config, std::atomic<uint32_t>* interrupted);

}  // namespace rz
