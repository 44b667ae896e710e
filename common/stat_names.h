// The names of the counters and gauges every role keeps in its stats slot (shm/stats.h), one
// constant each, shared by the writers (actor, learner, evaluator, relay, ingest) and the
// readers (the monitor's snapshots, the run summary, the evaluator's look at the learner).
//
// Why constants: a reader asks a slot for a metric by name and gets 0 (or nothing) when no
// metric has that name, so a name typed differently on the two sides is a silent zero in the
// monitor. With one constant per name a typo does not compile.
//
// Each declaration below is one group of a role's counters or gauges. A name is at most 23
// characters (shm/stats.h). Names are the on-shm format: renaming one makes a new monitor read 0
// from an older run's segment or saved stats.snapshot. shm/ stores whatever names it is given and
// knows none of these.
#pragma once

namespace rz::stat {

// Actor (role kActor, index = its lane).
namespace actor {
// Counters: what was played and committed to the lane.
inline constexpr char kGames[] = "games", kPositions[] = "positions",
                      kRecordsCommitted[] = "records_committed",
                      kBytesCommitted[] = "bytes_committed", kSimulations[] = "simulations";
// Counters: resignation (resign_false_pos: resign-disabled games whose would-be resigner did
// not lose).
inline constexpr char kResignedGames[] = "resigned_games",
                      kResignDisabledGames[] = "resign_disabled_games",
                      kResignFalsePos[] = "resign_false_pos";
// Counters: records dropped as too large, weight switches, time blocked on a full lane.
inline constexpr char kRecordsTooLarge[] = "records_too_large",
                      kWeightSwitches[] = "weight_switches", kLaneWaitMs[] = "lane_wait_ms";
// Counters: leaves looked up in the evaluation cache, and answered without a forward pass.
inline constexpr char kEvalLookups[] = "eval_lookups", kEvalSaved[] = "eval_saved";
// Gauges (precision_bf16: 0 fp32, 1 bf16).
inline constexpr char kWeightVersion[] = "weight_version", kPositionsPerS[] = "positions_per_s",
                      kSimsPerS[] = "sims_per_s", kEvalCacheHitRate[] = "eval_cache_hit_rate",
                      kPrecisionBf16[] = "precision_bf16";
}  // namespace actor

// Learner (role kLearner, index 0).
namespace learner {
// Counters.
inline constexpr char kStep[] = "step", kPublishedVersion[] = "published_version",
                      kRecordsConsumed[] = "records_consumed",
                      kReplayPositions[] = "replay_positions",
                      kSamplesTrained[] = "samples_trained";
// Counters: records skipped (undecodable, already in the window, refused by the ring, no
// longer decodable when sampled).
inline constexpr char kBadRecords[] = "bad_records", kDuplicatesSkipped[] = "duplicates_skipped",
                      kRingCorruptSkipped[] = "ring_corrupt_skipped",
                      kWindowUndecodable[] = "window_undecodable";
// Gauges (device_cuda: 1 on CUDA).
inline constexpr char kLossTotal[] = "loss_total", kLossPolicy[] = "loss_policy",
                      kLossValue[] = "loss_value", kDeviceCuda[] = "device_cuda",
                      kSamplesBehind[] = "samples_behind", kTrainSeconds[] = "train_seconds";
}  // namespace learner

// Live evaluator (role kEvaluator, index 0).
namespace eval {
// Counters.
inline constexpr char kEvaluations[] = "evaluations", kGames[] = "eval_games";
// Gauges: the last evaluation's results.
inline constexpr char kVersion[] = "eval_version", kScore[] = "eval_score",
                      kWinRate[] = "eval_win_rate", kElo[] = "eval_elo",
                      kStrongScore[] = "eval_strong_score";
// Gauges: the last evaluation's optimal-move fractions (Connect Four).
inline constexpr char kAccuracyPolicy[] = "eval_accuracy_policy",
                      kAccuracyMcts[] = "eval_accuracy_mcts", kEarlyPolicy[] = "eval_early_policy",
                      kEarlyMcts[] = "eval_early_mcts";
}  // namespace eval

// Relay (role kRelay, index 0): an actor host's link to the learner host.
namespace relay {
// Counters.
inline constexpr char kRecordsSent[] = "records_sent", kRecordsAcked[] = "records_acked",
                      kResends[] = "resends", kReconnects[] = "reconnects";
// Gauges (learner_reachable: 0/1).
inline constexpr char kLaneCommitted[] = "lane_committed", kLaneReleased[] = "lane_released",
                      kLearnerReachable[] = "learner_reachable",
                      kWeightVersion[] = "weight_version";
}  // namespace relay

// Ingest (role kIngest, index 0): the learner host's intake of remote records.
namespace ingest {
// Counters.
inline constexpr char kRecordsIngested[] = "records_ingested",
                      kDuplicatesDropped[] = "duplicates_dropped",
                      kSequenceGaps[] = "sequence_gaps", kRedisReconnects[] = "redis_reconnects";
// Counters: messages refused, by reason.
inline constexpr char kRefusedMalformed[] = "refused_malformed",
                      kRefusedVersion[] = "refused_version",
                      kRefusedOversized[] = "refused_oversized",
                      kRefusedInvalid[] = "refused_invalid",
                      kRefusedTableFull[] = "refused_table_full",
                      kRefusedEpochLeap[] = "refused_epoch_leap";
// Gauges (redis_connected: 0/1).
inline constexpr char kWeightVersion[] = "weight_version", kRedisConnected[] = "redis_connected";
}  // namespace ingest

}  // namespace rz::stat
