#include "learner/ingest_state.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace rz {

namespace {
constexpr uint64_t kMagic = 0x3154534e49475a52ull;  // "RZGINST1"
constexpr uint32_t kVersion = 2;                    // 2: 16384 lane entries
}  // namespace

struct HostEntry {
  std::atomic<uint32_t> used;  // stored (release) after id
  char id[68];
  std::atomic<uint64_t> epoch;
  std::atomic<uint64_t> ingested, duplicates, gaps;
};
struct LaneEntry {
  std::atomic<uint32_t> used;  // stored (release) after host and lane
  uint32_t host;
  uint32_t lane;
  std::atomic<uint64_t> next;
};
struct File {
  uint64_t magic;
  uint32_t version, reserved;
  std::atomic<uint64_t> generation;
  // The pending intention (see ingest_state.h); pending_local is stored first (kNone) and
  // last (n), so the other words are complete whenever it names a sequence.
  std::atomic<uint64_t> pending_local;
  std::atomic<uint64_t> pending_entry, pending_next, pending_host, pending_ingested, pending_gaps;
  HostEntry hosts[IngestState::kMaxHosts];
  LaneEntry lanes[IngestState::kMaxLanes];
};
static_assert(std::atomic<uint64_t>::is_always_lock_free);

IngestState::IngestState(const std::string& path, uint64_t generation, uint64_t lane_committed) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    throw std::runtime_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  struct stat st {};
  ::fstat(fd, &st);
  bytes_ = sizeof(File);
  const bool fresh = st.st_size == 0;
  if (!fresh && static_cast<size_t>(st.st_size) != bytes_) {
    ::close(fd);
    throw std::runtime_error(fmt::format(
        "{} is {} bytes, not an ingest state of this build ({} bytes): stop the run and move it "
        "away (remote records still pending in Redis may then be ingested a second time)",
        path, st.st_size, bytes_));
  }
  if (fresh && (::fchmod(fd, 0600) != 0 || ::ftruncate(fd, static_cast<off_t>(bytes_)) != 0)) {
    ::close(fd);
    throw std::runtime_error(fmt::format("cannot size {}: {}", path, std::strerror(errno)));
  }
  void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED)
    throw std::runtime_error(fmt::format("cannot map {}: {}", path, std::strerror(errno)));
  file_ = static_cast<File*>(p);
  if (file_->magic == 0) {
    // New, or its creation was cut short (a SIGKILL before the magic, stored last): nothing
    // was ever recorded in it, so it is initialised from scratch, magic last.
    std::memset(static_cast<void*>(file_), 0, bytes_);
    file_->pending_local.store(kNone);
    file_->generation.store(generation);
    file_->version = kVersion;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    file_->magic = kMagic;
  } else if (file_->magic != kMagic || file_->version != kVersion) {
    ::munmap(p, bytes_);
    file_ = nullptr;
    throw std::runtime_error(fmt::format(
        "{} is not an ingest state of this build (bad magic or version): stop the run and move "
        "it away",
        path));
  }
  const uint64_t pending = file_->pending_local.load(std::memory_order_acquire);
  if (file_->generation.load() != generation) {
    // Another segment: the old lane cannot be consulted; the record was never acknowledged
    // to Redis, so it comes again and is accepted then.
    file_->pending_local.store(kNone);
    file_->generation.store(generation);
  } else if (pending != kNone && pending < lane_committed) {
    finish();  // the record was committed: apply its update (idempotent)
    resolved_ = 1;
  } else {
    file_->pending_local.store(kNone);
  }
}

IngestState::~IngestState() {
  if (file_) ::munmap(file_, bytes_);
}

int IngestState::find_host(const std::string& host, bool create) {
  for (uint32_t i = 0; i < kMaxHosts; ++i) {
    HostEntry& h = file_->hosts[i];
    if (h.used.load(std::memory_order_acquire) == 0) {
      if (!create) return -1;
      std::memset(h.id, 0, sizeof h.id);
      std::memcpy(h.id, host.data(), std::min(host.size(), sizeof h.id - 1));
      h.epoch.store(0);
      h.ingested.store(0);
      h.duplicates.store(0);
      h.gaps.store(0);
      h.used.store(1, std::memory_order_release);
      return static_cast<int>(i);
    }
    if (host == h.id) return static_cast<int>(i);
  }
  return -1;
}

IngestState::Verdict IngestState::check(const std::string& host, uint64_t epoch, uint32_t lane,
                                        uint64_t seq, bool may_advance, uint64_t* gap,
                                        uint32_t* handle) {
  const int hi = find_host(host, true);
  if (hi < 0) return Verdict::kTableFull;
  HostEntry& h = file_->hosts[hi];
  if (epoch < h.epoch.load()) return Verdict::kDuplicate;  // an old segment's record, sent again
  // Epochs come from INCR rz:epoch:<host> once per join: a leap far ahead is no relay of ours
  // (and accepting it would make every later genuine record of the host a "duplicate").
  if (epoch > h.epoch.load() + kMaxEpochJump) return Verdict::kEpochJump;
  if (epoch > h.epoch.load()) {
    if (!may_advance) return Verdict::kHold;
    // The actor host started a new segment: its lanes count from 0 again. Reset every entry
    // of the host, THEN store the epoch (a kill in between: the next message redoes this).
    for (uint32_t i = 0; i < kMaxLanes; ++i) {
      LaneEntry& e = file_->lanes[i];
      if (e.used.load(std::memory_order_acquire) && e.host == static_cast<uint32_t>(hi))
        e.next.store(0);
    }
    h.epoch.store(epoch, std::memory_order_release);
  }
  int found = -1;
  for (uint32_t i = 0; i < kMaxLanes; ++i) {
    LaneEntry& e = file_->lanes[i];
    if (!e.used.load(std::memory_order_acquire)) {
      e.host = static_cast<uint32_t>(hi);
      e.lane = lane;
      e.next.store(0);
      e.used.store(1, std::memory_order_release);
      found = static_cast<int>(i);
      break;
    }
    if (e.host == static_cast<uint32_t>(hi) && e.lane == lane) {
      found = static_cast<int>(i);
      break;
    }
  }
  if (found < 0) return Verdict::kTableFull;
  const uint64_t next = file_->lanes[found].next.load();
  if (seq < next) return Verdict::kDuplicate;
  if (seq > next && !may_advance) return Verdict::kHold;
  *gap = seq - next;
  *handle = static_cast<uint32_t>(found);
  return Verdict::kAccept;
}

void IngestState::prepare(uint32_t handle, uint64_t seq, uint64_t gap, uint64_t local_seq) {
  const LaneEntry& e = file_->lanes[handle];
  const HostEntry& h = file_->hosts[e.host];
  file_->pending_local.store(kNone, std::memory_order_release);
  file_->pending_entry.store(handle);
  file_->pending_next.store(seq + 1);
  file_->pending_host.store(e.host);
  file_->pending_ingested.store(h.ingested.load() + 1);
  file_->pending_gaps.store(h.gaps.load() + gap);
  file_->pending_local.store(local_seq, std::memory_order_release);
}

void IngestState::finish() {
  const uint64_t entry = file_->pending_entry.load(), host = file_->pending_host.load();
  if (entry < kMaxLanes && host < kMaxHosts) {
    file_->lanes[entry].next.store(file_->pending_next.load());
    file_->hosts[host].ingested.store(file_->pending_ingested.load());
    file_->hosts[host].gaps.store(file_->pending_gaps.load());
  }
  file_->pending_local.store(kNone, std::memory_order_release);
}

void IngestState::count_duplicate(const std::string& host) {
  const int hi = find_host(host, false);
  if (hi >= 0) file_->hosts[hi].duplicates.fetch_add(1);
}

std::vector<IngestHostCounters> IngestState::hosts() const {
  std::vector<IngestHostCounters> out;
  for (uint32_t i = 0; i < kMaxHosts; ++i) {
    const HostEntry& h = file_->hosts[i];
    if (!h.used.load(std::memory_order_acquire)) break;
    IngestHostCounters c;
    c.host_id = std::string(h.id, strnlen(h.id, sizeof h.id));
    c.epoch = h.epoch.load();
    c.ingested = h.ingested.load();
    c.duplicates = h.duplicates.load();
    c.gaps = h.gaps.load();
    out.push_back(c);
  }
  return out;
}

}  // namespace rz
