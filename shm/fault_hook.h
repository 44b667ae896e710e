// Test-only fault points of the ring and the weight slot.
//
// The SIGKILL tests (tests/shm/test_ring_processes.cc, test_weight_slot.cc) must kill a
// producer, a consumer or a publisher at exactly one instant of the protocol, e.g. after the
// record's bytes are in place and before the tail store that commits them. A test child sets a
// hook that raise(SIGKILL)s at the instant it wants; the protocol code calls fault_point() at
// each named instant. In normal runs the hook is a null function pointer, so a fault point
// costs one predictable branch (per record, or per weight publish).
//
// Header-only on purpose: the check is inlined into the lane protocol's hot path (an
// out-of-line call per record would cost more than the branch).
#pragma once

#include <cstdint>

namespace rz::shm::testing {

enum class FaultPoint {
  kMidCopy,                  // LaneWriter::write: half the payload copied
  kBeforeTailStore,          // LaneWriter: record complete, tail not yet stored
  kAfterTailStore,           // LaneWriter: tail stored, committed_seq not yet
  kConsumerBeforeHeadStore,  // RingReader::release(_through): consumed_seq stored, head not yet
  kWeightMidCopy,            // WeightSlot::publish: half the blob copied
};
// `sequence`: the record's sequence number (ring) or the version being published (weights).
using FaultHook = void (*)(FaultPoint point, uint64_t sequence);

namespace detail {
inline FaultHook g_fault_hook = nullptr;  // one per process (C++17 inline variable)
}  // namespace detail

// Sets the hook for this process (a test child, before it touches the segment); nullptr
// removes it.
inline void set_fault_hook(FaultHook hook) {
  detail::g_fault_hook = hook;
}

// Whether a hook is set: LaneWriter::write copies the payload in two halves only then.
inline bool fault_hook_set() {
  return __builtin_expect(detail::g_fault_hook != nullptr, 0);
}

// Calls the hook at `point`; a no-op (one branch) when none is set.
inline void fault_point(FaultPoint point, uint64_t sequence) {
  if (fault_hook_set()) detail::g_fault_hook(point, sequence);
}

}  // namespace rz::shm::testing
