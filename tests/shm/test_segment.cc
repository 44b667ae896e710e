// Segment: creation, validation, permissions, version refusal, crash-safe creation and
// reclaiming of a dead creator's segment.
#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include "shm/layout.h"
#include "shm/segment.h"
#include "tests/shm/shm_test_util.h"
#include "tests/support/files.h"

using namespace rz::shm;
using namespace rz::shm::test;

namespace {
std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ShmError& e) {
    return e.what();
  }
  return "";
}
// Opens the object as raw bytes, the way a foreign or older build would see it.
uint8_t* raw_map(const std::string& name, size_t bytes) {
  int fd = ::shm_open(name.c_str(), O_RDWR, 0);
  REQUIRE(fd >= 0);
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  REQUIRE(p != MAP_FAILED);
  return static_cast<uint8_t*>(p);
}
std::string dev_shm(const std::string& name) {
  return "/dev/shm" + name;
}
// Forks a live creator of `name`: the child creates the segment (with `token`), lets
// `disguise` rewrite its header, and waits to be killed. Returns once the segment exists.
pid_t spawn_live_creator(const std::string& name, const std::string& run_info, uint64_t token = 0,
                         void (*disguise)(SegmentHeader*) = nullptr) {
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = spawn([&] {
    auto seg = Segment::create(name, small_sizes(), run_info, token);
    if (disguise) disguise(reinterpret_cast<SegmentHeader*>(seg->base()));
    char c = 1;
    if (::write(ready[1], &c, 1) != 1) return 2;
    ::pause();  // killed by the parent
    return 0;
  });
  char c;
  const bool created = ::read(ready[0], &c, 1) == 1;
  ::close(ready[0]);
  ::close(ready[1]);
  REQUIRE(created);
  return child;
}
std::atomic<bool> g_fallocate_unsupported{false};
}  // namespace

// posix_fallocate as shm/segment.cc sees it in this test binary: the real one, unless a test
// makes it answer EOPNOTSUPP as a filesystem without fallocate does, so that create()'s
// page-by-page pwrite fallback runs on a real tmpfs.
extern "C" int posix_fallocate(int fd, off_t offset, off_t len) {
  if (g_fallocate_unsupported.load()) return EOPNOTSUPP;
  using Fn = int (*)(int, off_t, off_t);
  static const Fn real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "posix_fallocate"));
  return real(fd, offset, len);
}

namespace {
// Creates the object `name` with exactly these bytes, as another program would.
void write_object(const std::string& name, const std::string& bytes) {
  int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == ssize_t(bytes.size()));
  ::close(fd);
}
using rz::testing::read_file;
}  // namespace

TEST_CASE("segment: create then open sees the same sizes, run_info and control block",
          "[segment]") {
  SegmentGuard g(unique_name("seg"));
  auto sizes = small_sizes(3);
  auto seg = Segment::create(g.name, sizes, "game=tictactoe run=/tmp/x");
  seg->control().generation.store(7);
  std::memset(seg->learner_region(), 0xab, seg->learner_region_bytes());

  auto other = Segment::open(g.name);
  CHECK(other->sizes().lanes == 3);
  CHECK(other->sizes().lane_bytes == sizes.lane_bytes);
  CHECK(other->run_info() == "game=tictactoe run=/tmp/x");
  CHECK(other->creator_pid() == uint32_t(::getpid()));
  CHECK(other->control().generation.load() == 7);
  CHECK(other->learner_region()[4095] == 0xab);
  CHECK(other->name() == g.name);
  CHECK(other->start_time_ns() > 1600000000ull * 1000000000ull);
  CHECK(Segment::creator_alive(g.name));

  auto ro = Segment::open(g.name, /*read_only=*/true);
  CHECK(ro->read_only());
  CHECK(ro->run_info() == "game=tictactoe run=/tmp/x");
}

TEST_CASE("segment: created with mode 0600", "[segment]") {
  SegmentGuard g(unique_name("mode"));
  mode_t old = ::umask(0);  // a permissive umask must not widen the mode
  auto seg = Segment::create(g.name, small_sizes(), "");
  ::umask(old);
  struct stat st;
  REQUIRE(::stat(("/dev/shm" + g.name).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("segment: bad sizes are refused naming the field", "[segment]") {
  SegmentGuard g(unique_name("sizes"));
  auto s = small_sizes();
  s.lanes = 0;
  CHECK_THAT(error_of([&] { Segment::create(g.name, s, ""); }), Catch::Contains("lanes = 0"));
  s = small_sizes(2, 1 << 16, 1 << 16);  // a lane must hold two max records
  CHECK_THAT(error_of([&] { s.validate(); }),
             Catch::Contains("lane_bytes = 65536 must be at least"));
  s = small_sizes(2, 1000);
  CHECK_THAT(error_of([&] { s.validate(); }), Catch::Contains("multiple of 64"));
  s = small_sizes();
  s.weight_bytes = 0;
  CHECK_THAT(error_of([&] { s.validate(); }), Catch::Contains("weight_bytes"));
  // 1 MiB records are fine with a big enough lane.
  s = small_sizes(1, 4 << 20, 1 << 20);
  CHECK_NOTHROW(s.validate());
  CHECK(error_of([&] {
          Segment::create(g.name, small_sizes(), std::string(1025, 'x'));
        }).find("run_info") != std::string::npos);
  CHECK(error_of([&] {
          Segment::create("/a/b", small_sizes(), "");
        }).find("bad shared-memory segment name") != std::string::npos);
}

TEST_CASE("segment: open of a missing segment says so", "[segment]") {
  auto msg = error_of([&] { Segment::open(unique_name("missing")); });
  CHECK_THAT(msg, Catch::Contains("does not exist"));
}

TEST_CASE("segment: a wrong layout version is refused with a clear message", "[segment]") {
  SegmentGuard g(unique_name("ver"));
  auto seg = Segment::create(g.name, small_sizes(), "");
  uint8_t* raw = raw_map(g.name, 4096);
  uint32_t wrong = kLayoutVersion + 1;
  std::memcpy(raw + 8, &wrong, 4);  // layout_version lives at offset 8 in every build
  auto msg = error_of([&] { Segment::open(g.name); });
  CHECK(msg == "shared-memory segment " + g.name + " has layout version " + std::to_string(wrong) +
                   ", this build expects " + std::to_string(kLayoutVersion) +
                   ": stop the old run or remove it with launch.sh stop");
  // Bad magic: not ours.
  uint64_t junk = 42;
  std::memcpy(raw, &junk, 8);
  CHECK_THAT(error_of([&] { Segment::open(g.name); }), Catch::Contains("not a ringzero segment"));
  ::munmap(raw, 4096);
}

TEST_CASE("segment: a size mismatch between header and object is refused", "[segment]") {
  SegmentGuard g(unique_name("trunc"));
  auto seg = Segment::create(g.name, small_sizes(), "");
  uint8_t* raw = raw_map(g.name, 4096);
  auto* h = reinterpret_cast<SegmentHeader*>(raw);
  h->lanes = 64;  // the header now describes a bigger segment than the object is
  CHECK_THAT(error_of([&] { Segment::open(g.name); }),
             Catch::Contains("bytes but its header describes"));
  ::munmap(raw, 4096);
}

TEST_CASE("segment: a dead creator's segment is reclaimed, also when the creator is a zombie",
          "[segment]") {
  ReapChildrenOnExit reap;
  SegmentGuard g(unique_name("dead"));
  for (bool reap : {true, false}) {
    pid_t child = spawn([&] {
      auto seg = Segment::create(g.name, small_sizes(), "old run");
      ::raise(SIGKILL);  // dies holding the creator mutex
      return 0;
    });
    if (reap) {
      CHECK(wait_child(child) == 128 + SIGKILL);
    } else {
      // Leave the child unreaped: kill(pid, 0) would call it alive, the robust mutex does not.
      siginfo_t info;
      REQUIRE(::waitid(P_PID, child, &info, WEXITED | WNOWAIT) == 0);
      CHECK(::kill(child, 0) == 0);
    }
    CHECK(Segment::open(g.name)->run_info() == "old run");
    CHECK_FALSE(Segment::creator_alive(g.name));
    auto seg = Segment::create(g.name, small_sizes(), "new run");
    CHECK(Segment::open(g.name)->run_info() == "new run");
    CHECK(seg->creator_pid() == uint32_t(::getpid()));
    seg.reset();
    Segment::remove(g.name);
    if (!reap) wait_child(child);
  }
}

TEST_CASE("segment: a live creator's segment is never touched", "[segment]") {
  ReapChildrenOnExit reap;
  SegmentGuard g(unique_name("live"));
  const pid_t child = spawn_live_creator(g.name, "live run");
  auto msg = error_of([&] { Segment::create(g.name, small_sizes(), "intruder"); });
  CHECK(msg == "shared-memory segment " + g.name + " is in use by live process " +
                   std::to_string(child) +
                   ": stop that run first (launch.sh stop) or choose another run name");
  CHECK(Segment::open(g.name)->run_info() == "live run");
  CHECK(Segment::creator_alive(g.name));
  ::kill(child, SIGKILL);
  CHECK(wait_child(child) == 128 + SIGKILL);
  CHECK_FALSE(Segment::creator_alive(g.name));
}

TEST_CASE("segment: remove reports whether the segment existed", "[segment]") {
  std::string name = unique_name("rm");
  CHECK_FALSE(Segment::remove(name));
  { auto seg = Segment::create(name, small_sizes(), ""); }
  CHECK(Segment::remove(name));
  CHECK_FALSE(Segment::remove(name));
}

TEST_CASE(
    "segment: creation reserves the whole size, so a full /dev/shm fails at create, not with "
    "SIGBUS later",
    "[segment]") {
  ReapChildrenOnExit reap;
  const bool fallback = GENERATE(false, true);  // true: no fallocate, zeros written by pwrite
  INFO("posix_fallocate " << (fallback ? "unsupported" : "supported"));
  // The child gets its own mount namespace with a 1 MiB tmpfs on /dev/shm (Docker's default
  // /dev/shm is a 64 MiB tmpfs). ftruncate alone would "succeed" there and the first store
  // to an unbacked page would kill a process with SIGBUS much later.
  int out[2];
  REQUIRE(::pipe(out) == 0);
  const std::string name = unique_name("nospace");
  SegmentSizes big = small_sizes();
  big.learner_region_bytes = 4 << 20;
  const uint64_t big_bytes = SegmentLayout::compute(big).total_bytes;
  SegmentSizes fits = small_sizes();
  fits.learner_region_bytes = 4096;
  fits.learner_region_bytes += (512 << 10) - SegmentLayout::compute(fits).total_bytes;
  REQUIRE(SegmentLayout::compute(fits).total_bytes == 512 << 10);
  pid_t child = spawn([&] {
    ::close(out[0]);
    auto say = [&](const std::string& line) {
      std::string l = line + "\n";
      return ::write(out[1], l.data(), l.size()) == ssize_t(l.size());
    };
    if (::unshare(CLONE_NEWNS) != 0)
      return say(std::string("skip: unshare(CLONE_NEWNS): ") + std::strerror(errno)) ? 77 : 2;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=1m,mode=1777") != 0)
      return say(std::string("skip: mount tmpfs on /dev/shm: ") + std::strerror(errno)) ? 77 : 2;
    g_fallocate_unsupported = fallback;
    std::string msg = "created";
    try {
      Segment::create(name, big, "too big");
    } catch (const ShmError& e) {
      msg = e.what();
    }
    say("big: " + msg);
    say(std::string("left: ") + (::access(dev_shm(name).c_str(), F_OK) == 0 ? "yes" : "no"));
    auto seg = Segment::create(name, fits, "fits");
    std::memset(seg->learner_region(), 0x5a, seg->learner_region_bytes());  // every page
    say("small: " + Segment::open(name)->run_info());
    return 0;
  });
  ::close(out[1]);
  std::string lines;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) lines.append(buf, size_t(n));
  ::close(out[0]);
  int rc = wait_child(child);
  if (rc == 77) {
    WARN("skipped: cannot mount a small tmpfs on /dev/shm here (needs root / CAP_SYS_ADMIN): " +
         lines);
    return;
  }
  INFO(lines);
  REQUIRE(rc == 0);
  // The free space is what statvfs reports once the half-created object gave its pages back.
  CHECK_THAT(lines, Catch::Matches("big: cannot reserve " + std::to_string(big_bytes) +
                                   " bytes \\(4\\.3 MiB\\) for shared-memory segment " + name +
                                   ": No space left on device \\(/dev/shm has 1\\.0 MiB free\\): "
                                   "mount a larger /dev/shm \\(docker run --shm-size=1g\\) or "
                                   "lower shm\\.lane_bytes / learner\\.replay_positions\n"
                                   "left: no\nsmall: fits\n"));
  // "left: no": the half-created object was unlinked; "small: fits": a 512 KiB segment is
  // created and every page of it written in the same 1 MiB /dev/shm.
}

TEST_CASE("segment: a foreign object under the run's name is refused naming it, and never removed",
          "[segment]") {
  std::mt19937_64 rng(12345);
  std::string random(1 << 16, '\0');
  for (char& c : random) c = char(rng());
  std::string zero_magic(8192, '\0');  // not all zero: bytes after an all-zero magic word
  zero_magic[100] = 1;
  const std::vector<std::pair<std::string, std::string>> objects = {
      {"random bytes", random},
      {"0xFF bytes", std::string(1 << 16, '\xff')},
      {"a tiny text file", "hello"},
      {"zero magic, other bytes set", zero_magic},
  };
  for (const auto& [what, bytes] : objects) {
    SECTION(what) {
      SegmentGuard g(unique_name("foreign"));
      write_object(g.name, bytes);
      const std::string path = dev_shm(g.name);
      auto msg = error_of([&] { Segment::create(g.name, small_sizes(), "intruder"); });
      CHECK(msg == path + " exists but is not a ringzero segment (bad magic): remove it with `rm " +
                       path + "` if nothing else uses it");
      CHECK(read_file(path) == bytes);  // untouched
    }
  }
}

TEST_CASE("segment: an object of ours from another layout version is refused, not probed",
          "[segment]") {
  SegmentGuard g(unique_name("otherver"));
  { auto seg = Segment::create(g.name, small_sizes(), "old build"); }  // creator gone
  uint8_t* raw = raw_map(g.name, 4096);
  uint32_t other = kLayoutVersion + 1;
  std::memcpy(raw + 8, &other, 4);
  const std::string path = dev_shm(g.name);
  CHECK(error_of([&] { Segment::create(g.name, small_sizes(), "new build"); }) ==
        path + " was made by a ringzero build with layout version " + std::to_string(other) +
            " (this build: " + std::to_string(kLayoutVersion) +
            "): stop that run with the launch.sh that started it, or remove it with `rm " + path +
            "` if no run uses it");
  CHECK(raw[8] == uint8_t(other));  // untouched
  ::munmap(raw, 4096);
}

TEST_CASE(
    "segment: half-initialised objects - empty, or ours killed before the mutex existed - are "
    "never opened as ready, and are reclaimed",
    "[segment]") {
  // Zero bytes hold no one's data: our create() leaves that if killed between shm_open and
  // its first store (nothing, or all zeros when killed right after ftruncate: a sparse
  // object; written out here, which reads the same). kCreatingMagic with nothing else: killed
  // right after its first store.
  std::string creating(1 << 16, '\0');
  std::memcpy(&creating[0], &kCreatingMagic, 8);
  for (const std::string& bytes :
       {std::string(), std::string(100, '\0'), std::string(1 << 20, '\0'), creating}) {
    SegmentGuard g(unique_name("empty"));
    write_object(g.name, bytes);
    CHECK_THAT(error_of([&] { Segment::open(g.name); }), Catch::Contains("is not initialised"));
    auto seg = Segment::create(g.name, small_sizes(), "fresh");
    CHECK(Segment::open(g.name)->run_info() == "fresh");
  }
}

// Issue #13 finding 2: liveness is the robust mutex's answer, never /proc's. A live creator
// whose recorded pid our /proc does not show (another pid namespace sharing /dev/shm, or
// no /proc at all) must be refused, not unlinked; and the run token names the run.
TEST_CASE("segment: a live creator whose pid /proc does not show is still live - never unlinked",
          "[segment]") {
  ReapChildrenOnExit reap;
  SegmentGuard g(unique_name("ns"));
  const uint64_t token = Segment::new_run_token();
  CHECK(token != 0);
  CHECK(Segment::new_run_token() != token);
  // What a creator in another pid namespace looks like from here: a pid and start time that
  // name no process of ours.
  const pid_t child = spawn_live_creator(g.name, "first run", token, [](SegmentHeader* h) {
    h->creator_pid = 0x3fffffff;
    h->creator_start_ticks = 1;
  });
  auto msg = error_of([&] { Segment::create(g.name, small_sizes(), "second run"); });
  CHECK_THAT(msg, Catch::Contains("is in use by live process"));
  auto seg = Segment::open(g.name);
  CHECK(seg->run_info() == "first run");
  CHECK(seg->run_token() == token);
  CHECK(Segment::creator_alive(g.name));
  CHECK(seg->creator_alive());
  ::kill(child, SIGKILL);
  CHECK(wait_child(child) == 128 + SIGKILL);
  CHECK_FALSE(Segment::creator_alive(g.name));
  CHECK_FALSE(seg->creator_alive());
}
