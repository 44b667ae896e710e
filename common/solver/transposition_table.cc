#include "common/solver/transposition_table.h"

#include <stdexcept>
#include <string>

namespace rz {
namespace {

bool is_prime(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t d = 2; d * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

}  // namespace

TranspositionTable::TranspositionTable(int log2_entries) {
  if (log2_entries < 18 || log2_entries > 30)
    throw std::invalid_argument("transposition table size 2^" + std::to_string(log2_entries) +
                                " is out of range: use 18..30");
  // The largest prime below 2^log2_entries (> 2^17, as the partial-key trick requires).
  uint64_t size = (uint64_t{1} << log2_entries) - 1;
  while (!is_prime(size)) --size;
  keys_.assign(size, 0);
  values_.assign(size, 0);
}

}  // namespace rz
