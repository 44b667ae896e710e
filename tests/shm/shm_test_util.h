// Helpers for the shm tests: unique segment names, RAII cleanup, fork-and-run children.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "common/hash.h"
#include "shm/layout.h"
#include "shm/segment.h"

namespace rz::shm::test {

// "/rz-test-<tag>-<pid>-<counter>": unique per test and process, so parallel ctest runs and
// leftovers of a crashed run never collide.
inline std::string unique_name(const std::string& tag) {
  static std::atomic<int> counter{0};
  return "/rz-test-" + tag + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

// Removes the named segment when the test ends, however it ends.
struct SegmentGuard {
  std::string name;
  explicit SegmentGuard(std::string n) : name(std::move(n)) { Segment::remove(name); }
  ~SegmentGuard() { Segment::remove(name); }
};

inline SegmentSizes small_sizes(uint32_t lanes = 2, uint64_t lane_bytes = 1 << 16,
                                uint64_t max_record = 4096) {
  SegmentSizes s;
  s.lanes = lanes;
  s.lane_bytes = lane_bytes;
  s.max_record_bytes = max_record;
  s.weight_bytes = 1 << 16;
  s.stats_slots = 8;
  s.learner_region_bytes = 4096;
  return s;
}

// A lane's control words, written directly to make shared memory look corrupt.
inline LaneControl& lane_control(const Segment& seg, uint32_t lane = 0) {
  return reinterpret_cast<LaneControl*>(seg.base() + seg.layout().lane_controls)[lane];
}

// A one-lane segment (a 64 KiB lane, records up to 4 KiB) for the tests that damage what a
// producer wrote, in place.
struct OneLaneSegment {
  static constexpr uint64_t kLaneBytes = 1 << 16;
  SegmentGuard guard;
  std::unique_ptr<Segment> seg;
  explicit OneLaneSegment(const std::string& tag)
      : guard(unique_name(tag)),
        seg(Segment::create(guard.name, small_sizes(1, kLaneBytes, 4096), "")) {}
  uint8_t* bytes() const { return seg->base() + seg->layout().lane_data; }
  // Where the next record's header goes (the records of these tests never need padding).
  RecordHeader* next_header() const {
    return reinterpret_cast<RecordHeader*>(bytes() + lane_control(*seg).tail.load() % kLaneBytes);
  }
};

// Children spawned and not yet reaped.
inline std::set<pid_t>& live_children() {
  static std::set<pid_t> children;
  return children;
}

// Runs fn in a forked child; the child exits with fn's return value (1 on an exception,
// printing it). Never returns in the child. The child dies with the test process.
inline pid_t spawn(const std::function<int()>& fn) {
  std::fflush(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    live_children().clear();
    int rc = 1;
    try {
      rc = fn();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child %d: %s\n", ::getpid(), e.what());
    }
    std::fflush(nullptr);
    ::_exit(rc);
  }
  live_children().insert(pid);
  return pid;
}

// Waits for pid. Returns the exit code, or 128 + signal if it was killed.
inline int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  live_children().erase(pid);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Put one at the top of every test that spawns: if the test fails half-way (a REQUIRE
// throws), the children it left running are killed and reaped instead of spinning on.
struct ReapChildrenOnExit {
  ~ReapChildrenOnExit() {
    for (pid_t pid : live_children()) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    live_children().clear();
  }
};

// Deterministic payload of record `seq` on `lane`: size and bytes both derive from them, so
// a consumer can verify any record it receives without being told about it. Mixed with the
// project's one integer mixer (header-only; shm/ itself stays free of common/).
using rz::mix64;
inline size_t payload_size(uint32_t lane, uint64_t seq, size_t max_size) {
  return size_t(mix64(seq * 131 + lane) % (max_size + 1));
}
inline void fill_payload(uint32_t lane, uint64_t seq, uint8_t* p, size_t size) {
  uint64_t x = mix64(seq ^ (uint64_t(lane) << 48));
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    std::memcpy(p + i, &x, 8);
  }
  x = x * 6364136223846793005ull + 1442695040888963407ull;
  for (; i < size; ++i) p[i] = uint8_t(x >> (8 * (i % 8)));
}
inline bool payload_ok(uint32_t lane, uint64_t seq, const uint8_t* p, size_t size, size_t max_size,
                       std::string* buf) {
  if (size != payload_size(lane, seq, max_size)) return false;
  buf->resize(size);
  fill_payload(lane, seq, reinterpret_cast<uint8_t*>(&(*buf)[0]), size);
  return std::memcmp(buf->data(), p, size) == 0;
}

}  // namespace rz::shm::test
