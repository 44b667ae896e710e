// The names of the counters and gauges every role keeps in its stats slot (shm/stats.h), one
// constant each, shared by the writers (actor, learner, evaluator, relay, ingest) and the
// readers (the monitor's snapshots, the run summary, the evaluator's look at the learner).
//
// Why constants: a reader asks a slot for a metric by name and gets 0 (or nothing) when no
// metric has that name, so a name typed differently on the two sides is a silent zero in the
// monitor. With one constant per name a typo does not compile.
//
// A name is at most 23 characters (shm/stats.h). Names are the on-shm format: renaming one
// makes a new monitor read 0 from an older run's segment or saved stats.snapshot.
// shm/ stores whatever names it is given and knows none of these.
#pragma once

namespace rz::stat {

// Actor (role kActor, index = its lane). Counters unless marked gauge.
namespace actor {
inline constexpr char kGames[] = "games";
inline constexpr char kPositions[] = "positions";
inline constexpr char kRecordsCommitted[] = "records_committed";
inline constexpr char kBytesCommitted[] = "bytes_committed";
inline constexpr char kSimulations[] = "simulations";
inline constexpr char kResignedGames[] = "resigned_games";
inline constexpr char kResignDisabledGames[] = "resign_disabled_games";
inline constexpr char kResignFalsePos[] = "resign_false_pos";
inline constexpr char kRecordsTooLarge[] = "records_too_large";
inline constexpr char kWeightSwitches[] = "weight_switches";
inline constexpr char kLaneWaitMs[] = "lane_wait_ms";               // time blocked on a full lane
inline constexpr char kWeightVersion[] = "weight_version";          // gauge
inline constexpr char kPositionsPerS[] = "positions_per_s";         // gauge
inline constexpr char kSimsPerS[] = "sims_per_s";                   // gauge
inline constexpr char kEvalLookups[] = "eval_lookups";              // leaves looked up
inline constexpr char kEvalSaved[] = "eval_saved";                  // answered without a forward
inline constexpr char kEvalCacheHitRate[] = "eval_cache_hit_rate";  // gauge
inline constexpr char kPrecisionBf16[] = "precision_bf16";          // gauge: 0 fp32, 1 bf16
}  // namespace actor

// Learner (role kLearner, index 0).
namespace learner {
inline constexpr char kStep[] = "step";
inline constexpr char kPublishedVersion[] = "published_version";
inline constexpr char kRecordsConsumed[] = "records_consumed";
inline constexpr char kReplayPositions[] = "replay_positions";
inline constexpr char kSamplesTrained[] = "samples_trained";
inline constexpr char kBadRecords[] = "bad_records";
inline constexpr char kDuplicatesSkipped[] = "duplicates_skipped";
inline constexpr char kRingCorruptSkipped[] = "ring_corrupt_skipped";
inline constexpr char kWindowUndecodable[] = "window_undecodable";
inline constexpr char kLossTotal[] = "loss_total";          // gauge
inline constexpr char kLossPolicy[] = "loss_policy";        // gauge
inline constexpr char kLossValue[] = "loss_value";          // gauge
inline constexpr char kDeviceCuda[] = "device_cuda";        // gauge: 1 on CUDA
inline constexpr char kSamplesBehind[] = "samples_behind";  // gauge
inline constexpr char kTrainSeconds[] = "train_seconds";    // gauge
}  // namespace learner

// Live evaluator (role kEvaluator, index 0).
namespace eval {
inline constexpr char kVersion[] = "eval_version";                 // gauge
inline constexpr char kScore[] = "eval_score";                     // gauge
inline constexpr char kWinRate[] = "eval_win_rate";                // gauge
inline constexpr char kElo[] = "eval_elo";                         // gauge
inline constexpr char kAccuracyPolicy[] = "eval_accuracy_policy";  // gauge
inline constexpr char kAccuracyMcts[] = "eval_accuracy_mcts";      // gauge
inline constexpr char kEarlyPolicy[] = "eval_early_policy";        // gauge
inline constexpr char kEarlyMcts[] = "eval_early_mcts";            // gauge
inline constexpr char kStrongScore[] = "eval_strong_score";        // gauge
inline constexpr char kEvaluations[] = "evaluations";
inline constexpr char kGames[] = "eval_games";
}  // namespace eval

// Relay (role kRelay, index 0): an actor host's link to the learner host.
namespace relay {
inline constexpr char kRecordsSent[] = "records_sent";
inline constexpr char kRecordsAcked[] = "records_acked";
inline constexpr char kResends[] = "resends";
inline constexpr char kReconnects[] = "reconnects";
inline constexpr char kLaneCommitted[] = "lane_committed";        // gauge
inline constexpr char kLaneReleased[] = "lane_released";          // gauge
inline constexpr char kLearnerReachable[] = "learner_reachable";  // gauge 0/1
inline constexpr char kWeightVersion[] = "weight_version";        // gauge
}  // namespace relay

// Ingest (role kIngest, index 0): the learner host's intake of remote records.
namespace ingest {
inline constexpr char kRecordsIngested[] = "records_ingested";
inline constexpr char kDuplicatesDropped[] = "duplicates_dropped";
inline constexpr char kSequenceGaps[] = "sequence_gaps";
inline constexpr char kRefusedMalformed[] = "refused_malformed";
inline constexpr char kRefusedVersion[] = "refused_version";
inline constexpr char kRefusedOversized[] = "refused_oversized";
inline constexpr char kRefusedInvalid[] = "refused_invalid";
inline constexpr char kRefusedTableFull[] = "refused_table_full";
inline constexpr char kRefusedEpochLeap[] = "refused_epoch_leap";
inline constexpr char kRedisReconnects[] = "redis_reconnects";
inline constexpr char kWeightVersion[] = "weight_version";    // gauge
inline constexpr char kRedisConnected[] = "redis_connected";  // gauge 0/1
}  // namespace ingest

}  // namespace rz::stat
