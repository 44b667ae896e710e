#include "shm/segment.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>
#include <optional>
#include <thread>

#include "shm/layout.h"
#include "shm/sys.h"

namespace rz::shm {
namespace bip = boost::interprocess;

namespace {

uint64_t align_up(uint64_t v, uint64_t a) {
  return (v + a - 1) / a * a;
}

// Boost wants the name without the leading '/'; users and messages see it with one.
std::string display_name(const std::string& name) {
  return name.empty() || name[0] != '/' ? "/" + name : name;
}
std::string boost_name(const std::string& name) {
  return display_name(name).substr(1);
}

void check_name(const std::string& name) {
  std::string n = boost_name(name);
  if (n.empty() || n.size() > 200 || n.find('/') != std::string::npos)
    throw ShmError(fmt::format(
        "bad shared-memory segment name '{}': use one short word like /rz-myrun (no other "
        "'/')",
        name));
}

uint64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

bool object_exists(const std::string& name) {
  struct stat st;
  return ::stat(("/dev/shm/" + boost_name(name)).c_str(), &st) == 0;
}

}  // namespace

void SegmentSizes::validate() const {
  auto bad = [](const std::string& what) { throw ShmError("bad segment size: " + what); };
  if (lanes < 1 || lanes > 4096)
    bad(fmt::format("lanes = {} must be in [1, 4096] (one lane per actor slot)", lanes));
  if (max_record_bytes < 1 || max_record_bytes > (1ull << 30))
    bad(fmt::format("max_record_bytes = {} must be in [1, 1 GiB]", max_record_bytes));
  if (lane_bytes % kCacheLine != 0)
    bad(fmt::format("lane_bytes = {} must be a multiple of 64", lane_bytes));
  uint64_t min_lane = 2 * record_span(max_record_bytes);
  if (lane_bytes < min_lane)
    bad(
        fmt::format("lane_bytes = {} must be at least {} (two max_record_bytes = {} records "
                    "with their 32-byte headers, since a record never wraps): raise "
                    "lane_bytes or lower max_record_bytes",
                    lane_bytes, min_lane, max_record_bytes));
  if (lane_bytes > (1ull << 40)) bad(fmt::format("lane_bytes = {} must be <= 1 TiB", lane_bytes));
  if (weight_bytes < 1 || weight_bytes > (1ull << 36))
    bad(fmt::format("weight_bytes = {} must be in [1, 64 GiB]", weight_bytes));
  if (stats_slots < 1 || stats_slots > 65536)
    bad(fmt::format("stats_slots = {} must be in [1, 65536]", stats_slots));
  if (learner_region_bytes > (1ull << 40))
    bad(fmt::format("learner_region_bytes = {} must be <= 1 TiB", learner_region_bytes));
  if (SegmentLayout::compute(*this).total_bytes > (1ull << 42))
    bad("the whole segment would exceed 4 TiB: lower lanes, lane_bytes or weight_bytes");
}

SegmentLayout SegmentLayout::compute(const SegmentSizes& s) {
  constexpr uint64_t kPage = 4096;
  SegmentLayout l;
  l.header = 0;
  l.ring_header = align_up(sizeof(SegmentHeader), kPage);
  l.lane_controls = align_up(l.ring_header + sizeof(RingHeader), kCacheLine);
  l.lane_data = align_up(l.lane_controls + uint64_t(s.lanes) * sizeof(LaneControl), kPage);
  l.weight_slot = align_up(l.lane_data + uint64_t(s.lanes) * s.lane_bytes, kPage);
  l.weight_buffers = align_up(l.weight_slot + sizeof(WeightSlotHeader), kPage);
  l.stats = align_up(l.weight_buffers + 3 * align_up(s.weight_bytes, kPage), kPage);
  l.learner_region = align_up(l.stats + uint64_t(s.stats_slots) * sizeof(StatsSlot), kPage);
  l.total_bytes = align_up(l.learner_region + s.learner_region_bytes, kPage);
  return l;
}

struct Segment::Impl {
  bip::shared_memory_object object;
  bip::mapped_region region;
};

Segment::Segment(std::string name, bool read_only)
    : name_(display_name(name)), read_only_(read_only), impl_(new Impl) {}

Segment::~Segment() {
  // Release the creator mutex while the mapping still exists: the kernel's robust-list walk
  // at our exit could not reach it after munmap, and the segment would look alive forever.
  if (is_creator_ && base_)
    sys::robust_mutex_release(&reinterpret_cast<SegmentHeader*>(base_)->creator_mutex);
}

namespace {

std::string dev_shm_path(const std::string& name) {
  return "/dev/shm/" + boost_name(name);
}

// Reserves [offset, offset + len) of the object's storage so that touching it later can
// never fail. ftruncate alone makes a sparse object: on a full tmpfs the first write to an
// unbacked page kills the writer with SIGBUS, possibly hours into a run. Returns 0 or an
// errno value (ENOSPC, EFBIG, ...).
int reserve_storage(int fd, uint64_t offset, uint64_t len) {
  int rc;
  do {
    rc = ::posix_fallocate(fd, off_t(offset), off_t(len));
  } while (rc == EINTR);
  if (rc != EOPNOTSUPP && rc != ENOSYS && rc != EINVAL) return rc;
  // A filesystem without fallocate: write zeros page by page (these pages are still all
  // zero, nothing has been stored in them); pwrite reports ENOSPC where a store would SIGBUS.
  static const char kZeros[4096] = {};
  for (uint64_t p = offset, end = offset + len; p < end;) {
    ssize_t n = ::pwrite(fd, kZeros, size_t(std::min<uint64_t>(sizeof kZeros, end - p)), off_t(p));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += uint64_t(n);
  }
  return 0;
}

std::string human_bytes(uint64_t b) {
  if (b >= (1ull << 30)) return fmt::format("{:.1f} GiB", double(b) / double(1ull << 30));
  if (b >= (1ull << 20)) return fmt::format("{:.1f} MiB", double(b) / double(1ull << 20));
  return fmt::format("{:.1f} KiB", double(b) / 1024.0);
}

std::string no_space_message(const std::string& name, uint64_t bytes, int err) {
  struct statvfs vfs;
  std::string free_space = "unknown";
  if (::statvfs("/dev/shm", &vfs) == 0)
    free_space = human_bytes(uint64_t(vfs.f_bavail) * uint64_t(vfs.f_frsize));
  return fmt::format(
      "cannot reserve {} bytes ({}) for shared-memory segment {}: {} (/dev/shm "
      "has {} free): mount a larger /dev/shm (docker run --shm-size=1g) or "
      "lower shm.lane_bytes / learner.replay_positions",
      bytes, human_bytes(bytes), display_name(name), std::strerror(err), free_space);
}

enum class Existing { kGone, kLive, kDead };

// Decides what an existing object `name` is, before create() unlinks anything:
//
//   nothing but zero bytes (or empty)      our create() killed before its first store (the
//                                          creating magic is its first store): after 1 s,
//                                          kDead. Deleting it loses no data.
//   magic 0 but other bytes non-zero,      FOREIGN: never ours, never reclaimed; ShmError
//   or a magic that is not ours            naming the object and `rm`.
//   kCreatingMagic, creator_mutex_ready 0  ours, creator killed before its mutex existed:
//                                          after 1 s, kDead.
//   our magic, ready: layout_version and   only now are the mutex bytes trusted: trylock;
//   header_bytes must be this build's      busy + live pid -> kLive, else kDead.
//
// A dead creator's mutex is released again at once (no process must own a mutex in an
// object about to be unlinked).
// One look: std::nullopt means "look again in a moment".
std::optional<Existing> probe_once(const std::string& name, uint32_t* pid) {
  const std::string path = dev_shm_path(name);
  try {
    bip::shared_memory_object obj(bip::open_only, boost_name(name).c_str(), bip::read_write);
    bip::offset_t size = 0;
    obj.get_size(size);
    const uint64_t n = std::min<uint64_t>(uint64_t(size), sizeof(SegmentHeader));
    if (n == 0) return std::nullopt;  // created, not yet sized
    bip::mapped_region region(obj, bip::read_write, 0, n);
    const auto* bytes = static_cast<const volatile uint8_t*>(region.get_address());
    auto* h = static_cast<SegmentHeader*>(region.get_address());
    uint64_t magic = 0;
    if (n >= sizeof(uint64_t)) magic = h->magic.load(std::memory_order_acquire);
    if (magic == 0) {
      bool zero = true;
      for (uint64_t i = 0; i < n && zero; ++i) zero = bytes[i] == 0;
      if (zero) return std::nullopt;
      // Our creator's first store is the magic, so bytes it stored after it imply the
      // magic is visible now (acquire fence pairs with its fence). Re-check it.
      std::atomic_thread_fence(std::memory_order_acquire);
      if (n < sizeof(uint64_t) || h->magic.load(std::memory_order_acquire) == 0)
        throw ShmError(
            fmt::format("{} exists but is not a ringzero segment (bad magic): "
                        "remove it with `rm {}` if nothing else uses it",
                        path, path));
      return std::nullopt;  // our creator just started: look again
    }
    if (magic != kSegmentMagic && magic != kCreatingMagic)
      throw ShmError(
          fmt::format("{} exists but is not a ringzero segment (bad magic): "
                      "remove it with `rm {}` if nothing else uses it",
                      path, path));
    if (n < sizeof(SegmentHeader))
      throw ShmError(
          fmt::format("{} is a ringzero segment cut short to {} bytes: remove "
                      "it with `rm {}` if no run uses it",
                      path, size, path));
    uint32_t ready = h->creator_mutex_ready.load(std::memory_order_acquire);
    if (ready == 0) return std::nullopt;  // creator still creating, or killed before its mutex
    // ready (acquire) makes the fields stored before it visible; check them before the
    // mutex bytes mean anything.
    if (h->layout_version != kLayoutVersion)
      throw ShmError(
          fmt::format("{} was made by a ringzero build with layout version {} "
                      "(this build: {}): stop that run with the launch.sh that "
                      "started it, or remove it with `rm {}` if no run uses it",
                      path, h->layout_version, kLayoutVersion, path));
    if (ready != 1 || h->header_bytes != sizeof(SegmentHeader))
      throw ShmError(
          fmt::format("{} is a ringzero segment with a corrupt header: remove "
                      "it with `rm {}` if no run uses it",
                      path, path));
    *pid = h->creator_pid;
    sys::Claim c;
    try {
      c = sys::robust_mutex_try(&h->creator_mutex);
    } catch (const ShmError& e) {
      throw ShmError(
          fmt::format("{} is a ringzero segment with a corrupt creator mutex "
                      "({}): remove it with `rm {}` if no run uses it",
                      path, e.what(), path));
    }
    // The mutex alone decides: a creator in another pid namespace (two containers sharing
    // /dev/shm) has a pid our /proc does not show, and is alive all the same.
    if (c == sys::Claim::kBusy) return Existing::kLive;
    // We hold it now: release so that no process is left owning a mutex in an object about
    // to be unlinked.
    sys::robust_mutex_release(&h->creator_mutex);
    return Existing::kDead;
  } catch (const bip::interprocess_exception& e) {
    if (e.get_error_code() == bip::not_found_error) return Existing::kGone;
    throw ShmError(
        fmt::format("cannot open existing shared-memory segment {}: {}: remove "
                    "it with `rm {}` if no run uses it",
                    display_name(name), e.what(), path));
  }
}

Existing probe_existing(const std::string& name, uint32_t* pid) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (auto e = probe_once(name, pid)) return *e;
    // A creator stores its magic and initialises its mutex microseconds after creating the
    // object: wait up to 1 s before deciding it died during creation.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Existing::kDead;
}

}  // namespace

std::unique_ptr<Segment> Segment::create(const std::string& name, const SegmentSizes& sizes,
                                         const std::string& run_info, uint64_t run_token) {
  check_name(name);
  sizes.validate();
  if (run_info.size() > kMaxRunInfoBytes)
    throw ShmError(
        fmt::format("run_info for segment {} is {} bytes, the limit is {}: shorten "
                    "it",
                    display_name(name), run_info.size(), kMaxRunInfoBytes));
  SegmentLayout layout = SegmentLayout::compute(sizes);
  std::unique_ptr<Segment> seg(new Segment(name, false));
  bip::permissions perm;
  perm.set_permissions(0600);
  for (int attempt = 0;; ++attempt) {
    try {
      seg->impl_->object = bip::shared_memory_object(bip::create_only, boost_name(name).c_str(),
                                                     bip::read_write, perm);
      break;
    } catch (const bip::interprocess_exception& e) {
      if (e.get_error_code() != bip::already_exists_error || attempt >= 3)
        throw ShmError(
            fmt::format("cannot create shared-memory segment {}: {}: check "
                        "/dev/shm permissions and free space",
                        seg->name_, e.what()));
    }
    uint32_t pid = 0;
    Existing ex = probe_existing(name, &pid);
    if (ex == Existing::kLive)
      throw ShmError(
          fmt::format("shared-memory segment {} is in use by live process {}: stop "
                      "that run first (launch.sh stop) or choose another run name",
                      seg->name_, pid));
    if (ex == Existing::kDead) bip::shared_memory_object::remove(boost_name(name).c_str());
  }
  const int fd = seg->impl_->object.get_mapping_handle().handle;
  // Boost applies the permissions through the umask-free fchmod path, but make sure.
  ::fchmod(fd, 0600);
  auto unlink_and_throw = [&](const std::string& message) {
    bip::shared_memory_object::remove(boost_name(name).c_str());
    throw ShmError(message);
  };
  try {
    seg->impl_->object.truncate(bip::offset_t(layout.total_bytes));
  } catch (const bip::interprocess_exception& e) {
    unlink_and_throw(
        fmt::format("cannot size shared-memory segment {} to {} bytes: {}: free "
                    "space in /dev/shm or lower the run's sizes",
                    seg->name_, layout.total_bytes, e.what()));
  }
  // Reserve the header pages first, the rest once our live mutex is in place: reserving a
  // large segment takes a while (~0.6 s per GiB on tmpfs), and a concurrent create() must
  // see a live creator during that time, not an all-zero object it would reclaim after 1 s.
  // Out of space: give back what was reserved before measuring what is free, so that the
  // message reports the space the user actually has.
  auto no_space = [&](int err) {
    (void)!::ftruncate(fd, 0);  // nothing touches the mapping after this
    unlink_and_throw(no_space_message(name, layout.total_bytes, err));
  };
  if (int err = reserve_storage(fd, 0, layout.ring_header)) no_space(err);
  try {
    seg->impl_->region = bip::mapped_region(seg->impl_->object, bip::read_write);
  } catch (const bip::interprocess_exception& e) {
    unlink_and_throw(
        fmt::format("cannot map shared-memory segment {} ({} bytes): {}: free "
                    "memory or lower the run's sizes",
                    seg->name_, layout.total_bytes, e.what()));
  }
  seg->base_ = static_cast<uint8_t*>(seg->impl_->region.get_address());
  seg->mapped_bytes_ = seg->impl_->region.get_size();
  seg->sizes_ = sizes;
  seg->layout_ = layout;

  // The object is zero-filled. Initialise in an order that makes every crash point safe:
  // the creating magic first (so every non-zero byte of ours is behind our magic), then pid
  // and the held mutex (so a concurrent create() can tell we are alive), then everything
  // else, then the ready magic last with release.
  auto* h = new (seg->base_) SegmentHeader();  // zeroes; nobody can see magic yet
  h->magic.store(kCreatingMagic, std::memory_order_relaxed);
  // Keeps every later store after the magic, for the compiler and the CPU: a creator killed
  // at any instant leaves either an all-zero object or one that starts with our magic.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  h->layout_version = kLayoutVersion;
  h->header_bytes = sizeof(SegmentHeader);
  h->total_bytes = layout.total_bytes;
  h->creator_pid = uint32_t(::getpid());
  h->creator_start_ticks = sys::process_start_ticks(h->creator_pid);
  sys::robust_mutex_init(&h->creator_mutex);
  if (sys::robust_mutex_try(&h->creator_mutex) == sys::Claim::kBusy)
    throw ShmError("cannot take the creator mutex of a fresh segment: this is a bug");
  seg->is_creator_ = true;
  // release: a prober that sees ready also sees the magic, version, header size and pid.
  h->creator_mutex_ready.store(1, std::memory_order_release);

  if (int err = reserve_storage(fd, layout.ring_header, layout.total_bytes - layout.ring_header)) {
    sys::robust_mutex_release(&h->creator_mutex);  // before the pages go
    seg->is_creator_ = false;
    no_space(err);
  }

  h->lanes = sizes.lanes;
  h->stats_slots = sizes.stats_slots;
  h->lane_bytes = sizes.lane_bytes;
  h->max_record_bytes = sizes.max_record_bytes;
  h->weight_bytes = sizes.weight_bytes;
  h->learner_region_bytes = sizes.learner_region_bytes;
  h->start_time_ns = realtime_ns();
  h->run_info_bytes = uint32_t(run_info.size());
  std::memcpy(h->run_info, run_info.data(), run_info.size());
  h->run_token = run_token;
  seg->run_info_ = run_info;
  seg->run_token_ = run_token;

  auto* ring = new (seg->base_ + layout.ring_header) RingHeader();
  sys::robust_mutex_init(&ring->consumer_mutex);
  auto* lanes = reinterpret_cast<LaneControl*>(seg->base_ + layout.lane_controls);
  for (uint32_t i = 0; i < sizes.lanes; ++i) {
    new (&lanes[i]) LaneControl();
    sys::robust_mutex_init(&lanes[i].owner_mutex);
  }
  new (seg->base_ + layout.weight_slot) WeightSlotHeader();
  auto* slots = reinterpret_cast<StatsSlot*>(seg->base_ + layout.stats);
  for (uint32_t i = 0; i < sizes.stats_slots; ++i) new (&slots[i]) StatsSlot();
  h->control.generation.store(1, std::memory_order_relaxed);

  h->magic.store(kSegmentMagic, std::memory_order_release);  // the segment is ready
  return seg;
}

std::unique_ptr<Segment> Segment::open(const std::string& name, bool read_only) {
  check_name(name);
  std::unique_ptr<Segment> seg(new Segment(name, read_only));
  const std::string& dn = seg->name_;
  auto mode = read_only ? bip::read_only : bip::read_write;
  try {
    seg->impl_->object = bip::shared_memory_object(bip::open_only, boost_name(name).c_str(), mode);
  } catch (const bip::interprocess_exception& e) {
    if (e.get_error_code() == bip::not_found_error)
      throw ShmError(
          fmt::format("shared-memory segment {} does not exist: start the run first "
                      "(launch.sh start) or check the run name",
                      dn));
    throw ShmError(
        fmt::format("cannot open shared-memory segment {}: {}: run as the user who "
                    "started the run",
                    dn, e.what()));
  }
  const SegmentHeader* h = nullptr;
  for (int attempt = 0; attempt < 100; ++attempt) {
    bip::offset_t size = 0;
    seg->impl_->object.get_size(size);
    if (uint64_t(size) >= sizeof(SegmentHeader)) {
      seg->impl_->region = bip::mapped_region(seg->impl_->object, mode);
      h = static_cast<const SegmentHeader*>(seg->impl_->region.get_address());
      uint64_t magic = h->magic.load(std::memory_order_acquire);
      if (magic == kSegmentMagic) break;
      if (magic != 0 && magic != kCreatingMagic)
        throw ShmError(
            fmt::format("shared-memory segment {} is not a ringzero segment (bad "
                        "magic): choose another run name, or remove it with `rm {}` "
                        "if nothing else uses it",
                        dn, dev_shm_path(name)));
    }
    h = nullptr;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!h)
    throw ShmError(
        fmt::format("shared-memory segment {} is not initialised (its creator died "
                    "while creating it or is still creating it): retry, or remove "
                    "it with launch.sh stop",
                    dn));
  if (h->layout_version != kLayoutVersion)
    throw ShmError(
        fmt::format("shared-memory segment {} has layout version {}, this build "
                    "expects {}: stop the old run or remove it with launch.sh stop",
                    dn, h->layout_version, kLayoutVersion));
  SegmentSizes s;
  s.lanes = h->lanes;
  s.lane_bytes = h->lane_bytes;
  s.max_record_bytes = h->max_record_bytes;
  s.weight_bytes = h->weight_bytes;
  s.stats_slots = h->stats_slots;
  s.learner_region_bytes = h->learner_region_bytes;
  try {
    s.validate();
  } catch (const ShmError& e) {
    throw ShmError(
        fmt::format("shared-memory segment {} has a corrupt header ({}): remove it "
                    "with launch.sh stop",
                    dn, e.what()));
  }
  SegmentLayout layout = SegmentLayout::compute(s);
  uint64_t mapped = seg->impl_->region.get_size();
  if (h->header_bytes != sizeof(SegmentHeader) || h->total_bytes != layout.total_bytes ||
      mapped < layout.total_bytes || h->run_info_bytes > kMaxRunInfoBytes)
    throw ShmError(
        fmt::format("shared-memory segment {} is {} bytes but its header describes "
                    "{} bytes: remove it with launch.sh stop",
                    dn, mapped, h->total_bytes));
  seg->base_ = static_cast<uint8_t*>(seg->impl_->region.get_address());
  seg->mapped_bytes_ = mapped;
  seg->sizes_ = s;
  seg->layout_ = layout;
  // Copied once, after its size was checked above: a later writer cannot change what we
  // read, or make us read past the field.
  seg->run_info_.assign(h->run_info, h->run_info_bytes);
  seg->run_token_ = h->run_token;
  return seg;
}

bool Segment::remove(const std::string& name) {
  check_name(name);
  if (!object_exists(name)) return false;
  return bip::shared_memory_object::remove(boost_name(name).c_str());
}

bool Segment::creator_alive(const std::string& name) {
  check_name(name);
  try {
    // Writable when we may (the run's own user): then the robust mutex decides.
    std::unique_ptr<Segment> seg;
    try {
      seg = open(name, false);
    } catch (const ShmError&) {
      seg = open(name, true);
    }
    return seg->creator_alive();
  } catch (const ShmError&) {
    return false;
  }
}

uint64_t Segment::new_run_token() {
  uint64_t token = 0;
  while (token == 0) {
    if (::getrandom(&token, sizeof token, 0) != ssize_t(sizeof token))
      token = uint64_t(realtime_ns()) * 0x9e3779b97f4a7c15ull ^ uint64_t(::getpid());
  }
  return token;
}

bool Segment::creator_alive() const {
  auto* h = reinterpret_cast<SegmentHeader*>(base_);
  if (is_creator_) return true;
  if (read_only_) return sys::process_alive(h->creator_pid, h->creator_start_ticks);
  // The robust mutex is the authority: EOWNERDEAD / free means the creator thread is gone.
  sys::Claim c = sys::robust_mutex_try(&h->creator_mutex);
  if (c == sys::Claim::kBusy) return true;
  sys::robust_mutex_release(&h->creator_mutex);
  return false;
}
uint32_t Segment::creator_pid() const {
  return reinterpret_cast<const SegmentHeader*>(base_)->creator_pid;
}
uint64_t Segment::start_time_ns() const {
  return reinterpret_cast<const SegmentHeader*>(base_)->start_time_ns;
}
ControlBlock& Segment::control() {
  return reinterpret_cast<SegmentHeader*>(base_)->control;
}
const ControlBlock& Segment::control() const {
  return reinterpret_cast<const SegmentHeader*>(base_)->control;
}
uint8_t* Segment::learner_region() {
  return base_ + layout_.learner_region;
}
const uint8_t* Segment::learner_region() const {
  return base_ + layout_.learner_region;
}

}  // namespace rz::shm
