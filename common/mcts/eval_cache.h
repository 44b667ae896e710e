// CachingEvaluator: an evaluation cache in front of another Evaluator (the network).
//
// WHY: Connect Four and Dots and Boxes reach the same position by many move orders, and one
// actor's consecutive games keep replaying the same openings, so a large share of the leaves
// a self-play actor sends to the network were evaluated moments ago. Answering those from a
// table is far cheaper than a forward pass.
//
// What it does, per evaluate() call:
//   1. each state's key is State::hash() (exact for Connect Four and Tic-tac-toe, a 64-bit
//      mix of the whole state for Dots and Boxes); a hit in the table copies the stored
//      policy and value, bit for bit what the evaluation gave when it was stored;
//   2. states missing from the table that occur several times in the batch (games in flight
//      that reached the same leaf) are sent to the inner evaluator once;
//   3. the remaining states go to the inner evaluator in ONE call, and their results are
//      stored.
// So a cached answer is exactly what an identical evaluation under the same weights gave;
// nothing recorded changes beyond that.
//
// Weight versions: invalidate() (the actor calls it when it loads new weights) makes every
// entry stale in O(1) (entries carry a generation number), so no answer of old weights is
// ever served for new ones.
//
// Memory: a fixed table of capacity_bytes / entry_bytes() entries allocated at construction
// (direct-mapped, the newer entry replaces the older one on a clash), plus scratch for the
// largest batch seen. capacity_bytes = 0 turns the table off; duplicates within a batch are
// still evaluated once. Not thread-safe: one thread, like every Evaluator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/evaluator.h"
#include "common/game.h"

namespace rz {

class CachingEvaluator : public Evaluator {
 public:
  CachingEvaluator(const Game& game, Evaluator& inner, size_t capacity_bytes);

  void evaluate(const State* const* states, int n, float* policy, float* value) override;

  // New weights: every stored entry becomes stale.
  void invalidate();

  // Bytes one entry takes (key, generation, value, num_actions policy floats).
  static size_t entry_bytes(int num_actions);
  size_t capacity_entries() const { return keys_.size(); }
  // Heap bytes held by the table (fixed at construction).
  size_t table_bytes() const;

  // Cumulative: states asked for, answered from the table, answered from another copy in
  // the same batch, and sent to the inner evaluator. lookups = hits + batch_duplicates +
  // evaluated.
  uint64_t lookups() const { return lookups_; }
  uint64_t hits() const { return hits_; }
  uint64_t batch_duplicates() const { return batch_duplicates_; }
  uint64_t evaluated() const { return evaluated_; }
  // Evaluations saved: hits + batch_duplicates.
  uint64_t saved() const { return hits_ + batch_duplicates_; }
  // Fraction of lookups not sent to the inner evaluator; 0 before the first call.
  double hit_rate() const;

 private:
  size_t slot_of(uint64_t key) const;
  void grow_scratch(int n);

  Evaluator& inner_;
  const int num_actions_;
  uint32_t generation_ = 1;  // 0 marks an empty entry

  // The table, struct of arrays.
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> generations_;
  std::vector<float> values_;
  std::vector<float> policies_;  // capacity_entries x num_actions

  // Per-call scratch, grown to the largest batch seen.
  std::vector<uint64_t> batch_keys_;
  std::vector<int32_t> source_;  // -1: answered from the table; else index into unique_
  std::vector<const State*> unique_;
  std::vector<uint64_t> unique_keys_;
  std::vector<float> unique_policy_, unique_value_;
  // Open-addressing map key -> unique index for one batch; a slot is live when its stamp is
  // the current batch's, so it is never cleared.
  std::vector<uint64_t> map_keys_;
  std::vector<int32_t> map_index_;
  std::vector<uint32_t> map_stamp_;
  uint32_t stamp_ = 0;

  uint64_t lookups_ = 0, hits_ = 0, batch_duplicates_ = 0, evaluated_ = 0;
};

}  // namespace rz
