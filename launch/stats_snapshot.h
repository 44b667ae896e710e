// StatsSnapshot: the run's stats table saved to RUN/stats.snapshot, so that counters are
// cumulative over the whole run and not over one shared-memory segment's life.
//
// A stopped run loses its segment (stop removes it) and `start --resume` creates a new one.
// The supervisor therefore saves every stats slot (role, index, restart count, metric names,
// kinds and values) at stop, and every few seconds while it runs (a SIGKILLed supervisor
// loses at most that much); the next supervisor seeds the new table from the freshest source
// (seed_slot, shm/stats.h) before it spawns anyone, so each process finds its slot with its
// counters intact. The freshest source is the segment a killed supervisor left behind, when
// there is one; else the file.
//
// The file is text, one slot per line, written atomically (tmp, fsync, rename):
//   ringzero-stats 1
//   slot <role> <index> <restarts> {<counter|gauge> <name> <u64 value or gauge bits>}*
//   end
// A file that does not parse is refused whole (one-line error): a resume then starts the
// counters from zero, which is visible, rather than from half a table.
#pragma once

#include <string>
#include <vector>

#include "shm/segment.h"
#include "shm/stats.h"

namespace rz::launch {

std::string format_stats_snapshot(const std::vector<shm::SlotSnapshot>& slots);
// Throws std::runtime_error (one line, naming `origin` and the line) on a malformed text.
std::vector<shm::SlotSnapshot> parse_stats_snapshot(const std::string& text,
                                                    const std::string& origin);

// Saves the slots of `segment` (all but the supervisor's own) to `path`, atomically.
void save_stats_snapshot(const shm::Segment& segment, const std::string& path);
// Reads `path`; a missing file is an empty table. Throws like parse_stats_snapshot.
std::vector<shm::SlotSnapshot> load_stats_snapshot(const std::string& path);

// Seeds every slot of `slots` (but the supervisor's) into `segment`, which no process of the
// run uses yet. Returns how many were seeded; throws shm::ShmError (table full, ...).
int seed_stats(shm::Segment& segment, const std::vector<shm::SlotSnapshot>& slots);

}  // namespace rz::launch
