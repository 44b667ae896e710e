// Fixed-size, always-replace transposition table for the Connect Four solver (Pons' design).
//
// A position key is < 2^49. Each entry keeps only the low 32 bits of the key; because the
// table size is a prime above 2^17, the pair (key mod size, key mod 2^32) identifies the key
// uniquely (Chinese remainder theorem), so a hit is never a false positive. The value is one
// byte; 0 means "empty". Collisions just overwrite: the solver stays exact, it only loses
// work it may have to redo.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace rz {

class TranspositionTable {
 public:
  // Holds about 2^log2_entries entries (5 bytes each); log2_entries in [18, 30].
  explicit TranspositionTable(int log2_entries);

  void reset() {
    std::memset(keys_.data(), 0, keys_.size() * sizeof(uint32_t));
    std::memset(values_.data(), 0, values_.size());
  }
  void put(uint64_t key, uint8_t value) {
    const size_t i = index(key);
    keys_[i] = static_cast<uint32_t>(key);
    values_[i] = value;
  }
  // The stored value, or 0 when the key is absent.
  uint8_t get(uint64_t key) const {
    const size_t i = index(key);
    return keys_[i] == static_cast<uint32_t>(key) ? values_[i] : 0;
  }
  size_t size() const { return keys_.size(); }

 private:
  size_t index(uint64_t key) const { return key % keys_.size(); }

  std::vector<uint32_t> keys_;
  std::vector<uint8_t> values_;
};

}  // namespace rz
