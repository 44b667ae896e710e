// IngestState: the ingest's dedup table, committed atomically with its lane (the crux of
// exactly-once, docs/scale-out.md "Exactly once, step by step").
//
// For every remote (host, epoch, lane) the ingest remembers `next`: the sequence it expects
// next; a record below it is a duplicate, above it a gap. Updating `next` and committing the
// record into the ingest lane are two stores in two places, and a SIGKILL can land between
// them. So the update is written as a PENDING intention tagged with the ingest lane's
// sequence number the record is about to receive:
//
//   1. reserve the record in the ingest lane and copy it;
//   2. prepare():  pending_local = NONE; pending values (entry, next, host counters);
//                  pending_local = n (the lane sequence the record gets)        [release]
//   3. LaneWriter::commit()  (the lane's tail store: the record exists)
//   4. finish():   apply the pending values; pending_local = NONE
//
// A restarted ingest compares pending_local with the lane's committed count C (from the
// LaneWriter that takes the lane over): n < C means step 3 happened, so the pending values
// are applied (idempotent assignments, never increments); otherwise they are dropped and the
// record, never acknowledged to Redis, is delivered again. The lane itself is the source of
// truth; the table only says what to do with it.
//
// The table lives in RUN/ingest.state (mode 0600), a file mapped MAP_SHARED: stores reach the
// page cache at once, so they survive the ingest's SIGKILL (not a kernel crash, like the
// segment itself). The file also records the segment generation it belongs to: in a new
// segment (the learner host's supervisor was restarted) an unresolved intention cannot be
// checked against the old lane and is dropped (the message is delivered again). The magic
// number is stored last when the file is created: a file without it (a SIGKILL during its
// creation) held nothing yet and is initialised again.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/redis/scale_protocol.h"

namespace rz {

struct IngestHostCounters {
  std::string host_id;
  uint64_t epoch = 0, ingested = 0, duplicates = 0, gaps = 0;
};

class IngestState {
 public:
  static constexpr uint64_t kNone = ~0ull;
  static constexpr uint32_t kMaxHosts = redis::kMaxHosts;
  // (host, lane) entries over all hosts: every lane of every host fits.
  static constexpr uint32_t kMaxLanes = redis::kMaxHosts * redis::kMaxLanesPerHost;

  // Opens or creates `path`; resolves a pending intention against the lane's committed
  // record count `lane_committed` in segment `generation`. Throws std::runtime_error (one
  // line) if the file is not an ingest state of this build.
  IngestState(const std::string& path, uint64_t generation, uint64_t lane_committed);
  ~IngestState();
  IngestState(const IngestState&) = delete;
  IngestState& operator=(const IngestState&) = delete;

  // How far ahead of a host's newest epoch a record's epoch may be (one epoch per join).
  static constexpr uint64_t kMaxEpochJump = 1000;

  // kEpochJump: the epoch leaps more than kMaxEpochJump ahead (refused, nothing changed).
  // kTableFull: no room for the host or lane (nothing changed: the caller must not
  // acknowledge the record, so it is not lost).
  // kHold: without `may_advance`, a record that would skip sequences of its lane or start a
  // newer epoch of its host (nothing changed: the caller looks for the missing records first).
  enum class Verdict { kAccept, kDuplicate, kTableFull, kEpochJump, kHold };
  // Decides what to do with record (host, epoch, lane, seq). On kAccept, *gap is how many
  // sequences were skipped (0 normally) and *handle identifies the entry for prepare().
  Verdict check(const std::string& host, uint64_t epoch, uint32_t lane, uint64_t seq,
                bool may_advance, uint64_t* gap, uint32_t* handle);
  // Steps 2 and 4 above. `local_seq` is the sequence the record gets in the ingest lane.
  void prepare(uint32_t handle, uint64_t seq, uint64_t gap, uint64_t local_seq);
  void finish();
  void count_duplicate(const std::string& host);

  std::vector<IngestHostCounters> hosts() const;
  uint64_t resolved_on_open() const { return resolved_; }  // 1 if a pending update was applied

 private:
  struct File* file_ = nullptr;
  size_t bytes_ = 0;
  uint64_t resolved_ = 0;
  int find_host(const std::string& host, bool create);
};

}  // namespace rz
