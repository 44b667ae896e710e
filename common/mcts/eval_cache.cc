#include "common/mcts/eval_cache.h"

#include <algorithm>
#include <cstring>

#include "common/hash.h"

namespace rz {

size_t CachingEvaluator::entry_bytes(int num_actions) {
  return sizeof(uint64_t) + sizeof(uint32_t) + sizeof(float) +
         sizeof(float) * static_cast<size_t>(num_actions);
}

CachingEvaluator::CachingEvaluator(const Game& game, Evaluator& inner, size_t capacity_bytes)
    : inner_(inner), num_actions_(game.num_actions()) {
  const size_t entries = capacity_bytes / entry_bytes(num_actions_);
  keys_.assign(entries, 0);
  generations_.assign(entries, 0);
  values_.assign(entries, 0.0f);
  policies_.assign(entries * static_cast<size_t>(num_actions_), 0.0f);
}

size_t CachingEvaluator::table_bytes() const {
  return keys_.capacity() * sizeof(uint64_t) + generations_.capacity() * sizeof(uint32_t) +
         values_.capacity() * sizeof(float) + policies_.capacity() * sizeof(float);
}

double CachingEvaluator::hit_rate() const {
  return lookups_ == 0 ? 0.0 : static_cast<double>(saved()) / static_cast<double>(lookups_);
}

void CachingEvaluator::invalidate() {
  if (++generation_ == 0) {  // wrapped after 2^32 switches: really clear, then start over
    std::fill(generations_.begin(), generations_.end(), 0u);
    generation_ = 1;
  }
}

size_t CachingEvaluator::slot_of(uint64_t key) const {
  // Multiply-shift maps the mixed key onto [0, entries) without needing a power of two, so
  // the whole memory budget is used.
  return static_cast<size_t>((static_cast<unsigned __int128>(mix64(key)) * keys_.size()) >> 64);
}

void CachingEvaluator::grow_scratch(int n) {
  const size_t want = static_cast<size_t>(n);
  if (batch_keys_.size() >= want) return;
  batch_keys_.resize(want);
  source_.resize(want);
  unique_.reserve(want);
  unique_keys_.resize(want);
  unique_policy_.resize(want * static_cast<size_t>(num_actions_));
  unique_value_.resize(want);
  size_t map_size = 16;
  while (map_size < 2 * want) map_size *= 2;
  map_keys_.assign(map_size, 0);
  map_index_.assign(map_size, 0);
  map_stamp_.assign(map_size, 0);
  stamp_ = 0;
}

void CachingEvaluator::evaluate(const State* const* states, int n, float* policy, float* value) {
  if (n <= 0) return;
  grow_scratch(n);
  if (++stamp_ == 0) {
    std::fill(map_stamp_.begin(), map_stamp_.end(), 0u);
    stamp_ = 1;
  }
  const size_t a = static_cast<size_t>(num_actions_);
  const size_t map_mask = map_keys_.size() - 1;
  const bool table = !keys_.empty();
  unique_.clear();

  for (int i = 0; i < n; ++i) {
    const uint64_t key = states[i]->hash();
    batch_keys_[static_cast<size_t>(i)] = key;
    if (table) {
      const size_t s = slot_of(key);
      if (generations_[s] == generation_ && keys_[s] == key) {
        std::memcpy(policy + static_cast<size_t>(i) * a, &policies_[s * a], a * sizeof(float));
        value[i] = values_[s];
        source_[static_cast<size_t>(i)] = -1;
        ++hits_;
        continue;
      }
    }
    // Not in the table: one evaluation per distinct position of this batch.
    size_t m = static_cast<size_t>(mix64(key)) & map_mask;
    while (map_stamp_[m] == stamp_ && map_keys_[m] != key) m = (m + 1) & map_mask;
    if (map_stamp_[m] == stamp_) {
      source_[static_cast<size_t>(i)] = map_index_[m];
      ++batch_duplicates_;
      continue;
    }
    map_stamp_[m] = stamp_;
    map_keys_[m] = key;
    map_index_[m] = static_cast<int32_t>(unique_.size());
    source_[static_cast<size_t>(i)] = static_cast<int32_t>(unique_.size());
    unique_keys_[unique_.size()] = key;
    unique_.push_back(states[i]);
  }

  const int u = static_cast<int>(unique_.size());
  if (u > 0) inner_.evaluate(unique_.data(), u, unique_policy_.data(), unique_value_.data());
  evaluated_ += static_cast<uint64_t>(u);
  lookups_ += static_cast<uint64_t>(n);

  for (int i = 0; i < n; ++i) {
    const int32_t j = source_[static_cast<size_t>(i)];
    if (j < 0) continue;
    std::memcpy(policy + static_cast<size_t>(i) * a, &unique_policy_[static_cast<size_t>(j) * a],
                a * sizeof(float));
    value[i] = unique_value_[static_cast<size_t>(j)];
  }
  if (table) {
    for (int j = 0; j < u; ++j) {
      const uint64_t key = unique_keys_[static_cast<size_t>(j)];
      const size_t s = slot_of(key);
      keys_[s] = key;
      generations_[s] = generation_;
      values_[s] = unique_value_[static_cast<size_t>(j)];
      std::memcpy(&policies_[s * a], &unique_policy_[static_cast<size_t>(j) * a],
                  a * sizeof(float));
    }
  }
  count(n);
}

}  // namespace rz
