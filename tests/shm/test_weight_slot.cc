// WeightSlot: versions, torn-copy freedom under a continuously rewriting publisher (threads
// and processes), and a publisher SIGKILLed mid-write.
#include <catch2/catch.hpp>
#include <random>
#include <thread>

#include "shm/fault_hook.h"
#include "shm/layout.h"
#include "shm/weight_slot.h"
#include "tests/shm/shm_test_util.h"

using namespace rz::shm;
using namespace rz::shm::test;
using testing::FaultPoint;

namespace {

// Blob of version v: its size and every word derive from v, so any mix of two versions is
// detected.
size_t blob_size(uint64_t v, size_t max_size) {
  return max_size - 8 * (v % 97);
}
void fill_blob(uint64_t v, std::vector<uint8_t>* b, size_t max_size) {
  b->resize(blob_size(v, max_size));
  auto* w = reinterpret_cast<uint64_t*>(b->data());
  for (size_t i = 0; i < b->size() / 8; ++i) w[i] = mix64(v * 1000003 + i);
}
bool blob_ok(uint64_t v, const std::vector<uint8_t>& b, size_t max_size) {
  if (b.size() != blob_size(v, max_size)) return false;
  auto* w = reinterpret_cast<const uint64_t*>(b.data());
  for (size_t i = 0; i < b.size() / 8; ++i)
    if (w[i] != mix64(v * 1000003 + i)) return false;
  return true;
}

SegmentSizes weight_sizes(uint64_t weight_bytes) {
  SegmentSizes s = small_sizes(1);
  s.weight_bytes = weight_bytes;
  return s;
}

// A segment whose weight slot holds blobs of up to max_size bytes, removed when the test ends.
struct WeightSegment {
  const size_t max_size;
  SegmentGuard g;
  std::unique_ptr<Segment> seg;
  WeightSegment(const std::string& tag, size_t max)
      : max_size(max), g(unique_name(tag)), seg(Segment::create(g.name, weight_sizes(max), "")) {}
};

// Reads until stop; returns 0 if every accepted copy was one consistent version and versions
// never went back.
int reader_loop(const WeightSlot& slot, size_t max_size, const std::function<bool()>& stop,
                uint64_t* reads_out = nullptr) {
  std::vector<uint8_t> blob;
  uint64_t last = 0, reads = 0;
  while (!stop()) {
    uint64_t tag = 0;
    uint64_t v = slot.read(&blob, &tag);
    if (v == 0) continue;
    if (v < last || tag != v * 3 + 1 || !blob_ok(v, blob, max_size)) return 7;
    last = v;
    ++reads;
  }
  if (reads_out) *reads_out = reads;
  return 0;
}

}  // namespace

TEST_CASE("weight slot: versions, tags, sizes", "[weights]") {
  SegmentGuard g(unique_name("w"));
  auto seg = Segment::create(g.name, weight_sizes(1 << 16), "");
  WeightSlot slot(*seg);
  std::vector<uint8_t> out;
  CHECK(slot.latest_version() == 0);
  CHECK(slot.read(&out) == 0);
  std::vector<uint8_t> blob;
  for (uint64_t v = 1; v <= 10; ++v) {
    fill_blob(v, &blob, 1 << 16);
    CHECK(slot.publish(blob.data(), blob.size(), v * 3 + 1) == v);
    CHECK(slot.latest_version() == v);
    uint64_t tag = 0;
    CHECK(slot.read(&out, &tag) == v);
    CHECK(tag == v * 3 + 1);
    CHECK(blob_ok(v, out, 1 << 16));
  }
  CHECK(slot.read_if_newer(10, &out) == 0);
  CHECK(slot.read_if_newer(9, &out) == 10);
  std::vector<uint8_t> too_big((1 << 16) + 1);
  CHECK_THROWS_WITH(slot.publish(too_big.data(), too_big.size(), 0),
                    Catch::Contains("exceeds weight_bytes"));
  // Another mapping (another process's view) sees the same.
  auto ro = Segment::open(g.name, true);
  WeightSlot other(*ro);
  CHECK(other.read(&out) == 10);
  CHECK(blob_ok(10, out, 1 << 16));
}

TEST_CASE(
    "weight slot: a version floor jumps forward, never back, and spares the published buffers",
    "[weights]") {
  WeightSegment ws("wfloor", 1 << 16);
  WeightSlot slot(*ws.seg);
  auto* header = reinterpret_cast<WeightSlotHeader*>(ws.seg->base() + ws.seg->layout().weight_slot);
  std::vector<uint8_t> blob, out;
  // A learner resumed from a checkpoint of version 5 into a new segment: first publish is 6.
  fill_blob(6, &blob, ws.max_size);
  CHECK(slot.publish(blob.data(), blob.size(), 6 * 3 + 1, 6) == 6);
  uint64_t tag = 0;
  CHECK(slot.read(&out, &tag) == 6);
  CHECK(tag == 6 * 3 + 1);
  CHECK(blob_ok(6, out, ws.max_size));
  // A floor at or below the current version changes nothing: previous + 1.
  fill_blob(7, &blob, ws.max_size);
  CHECK(slot.publish(blob.data(), blob.size(), 7 * 3 + 1, 3) == 7);
  // A jump of 3 (same v % 3 as the published version): the published buffer and the one
  // before it stay intact for slow readers, whatever the jump.
  const uint64_t published_index = header->published.load() & 3;
  fill_blob(10, &blob, ws.max_size);
  CHECK(slot.publish(blob.data(), blob.size(), 10 * 3 + 1, 10) == 10);
  const uint64_t new_index = header->published.load() & 3;
  CHECK(new_index != published_index);
  CHECK(header->buffers[published_index].version.load() == 7);
  CHECK(header->buffers[published_index].seq.load() % 2 == 0);
  for (int b = 0; b < 3; ++b)
    if (b != int(published_index) && b != int(new_index))
      CHECK(header->buffers[b].version.load() == 6);
  CHECK(slot.read(&out, &tag) == 10);
  CHECK(blob_ok(10, out, ws.max_size));
  // The old overload continues from the jump.
  fill_blob(11, &blob, ws.max_size);
  CHECK(slot.publish(blob.data(), blob.size(), 11 * 3 + 1) == 11);
  CHECK(slot.read_if_newer(7, &out) == 11);
  CHECK(blob_ok(11, out, ws.max_size));
}

TEST_CASE("weight slot: readers in threads never accept a torn copy, also while versions jump",
          "[weights][threads]") {
  const size_t max_size = 1 << 16;
  for (const bool jumps : {false, true}) {
    INFO((jumps ? "versions jump by 1 to 4" : "consecutive versions"));
    WeightSegment ws("wthr", max_size);
    WeightSlot slot(*ws.seg);
    std::atomic<bool> done{false};
    std::vector<std::thread> readers;
    std::vector<int> results(2, -1);
    for (int i = 0; i < 2; ++i)
      readers.emplace_back(
          [&, i] { results[i] = reader_loop(slot, max_size, [&] { return done.load(); }); });
    std::vector<uint8_t> blob;
    uint64_t v = 0;
    for (int i = 0; i < 400; ++i) {
      v += jumps ? 1 + static_cast<uint64_t>(i % 4) : 1;  // jumps of 0..3 beyond previous + 1
      fill_blob(v, &blob, max_size);
      const uint64_t tag = v * 3 + 1;
      REQUIRE((jumps ? slot.publish(blob.data(), blob.size(), tag, v)
                     : slot.publish(blob.data(), blob.size(), tag)) == v);
    }
    done = true;
    for (auto& t : readers) t.join();
    CHECK(results == std::vector<int>{0, 0});
  }
}

TEST_CASE("weight slot: reader processes against a continuously rewriting publisher process",
          "[weights][processes]") {
  ReapChildrenOnExit reap;
  WeightSegment ws("wproc", 4 << 20);
  pid_t publisher = spawn([&] {
    auto s = Segment::open(ws.g.name);
    WeightSlot slot(*s);
    std::vector<uint8_t> blob;
    for (uint64_t v = 1; !s->control().stop_requested(); ++v) {
      fill_blob(v, &blob, ws.max_size);
      if (slot.publish(blob.data(), blob.size(), v * 3 + 1) != v) return 8;
    }
    return 0;
  });
  std::vector<pid_t> readers;
  for (int i = 0; i < 2; ++i)
    readers.push_back(spawn([&] {
      auto s = Segment::open(ws.g.name, true);
      WeightSlot slot(*s);
      uint64_t reads = 0;
      int rc = reader_loop(
          slot, ws.max_size, [&] { return s->control().stop_requested(); }, &reads);
      return rc ? rc : (reads >= 10 ? 0 : 9);
    }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ws.seg->control().request_stop();
  CHECK(wait_child(publisher) == 0);
  for (pid_t r : readers) CHECK(wait_child(r) == 0);
  CHECK(WeightSlot(*ws.seg).latest_version() > 10);
}

namespace {
uint64_t g_weight_kill_version;
void kill_publisher(FaultPoint point, uint64_t version) {
  if (point == FaultPoint::kWeightMidCopy && version == g_weight_kill_version) ::raise(SIGKILL);
}
}  // namespace

TEST_CASE("weight slot: a publisher SIGKILLed mid-write leaves the last version readable",
          "[weights][processes][faults]") {
  ReapChildrenOnExit reap;
  WeightSegment ws("wkill", 16 << 20);
  WeightSlot slot(*ws.seg);
  auto* header = reinterpret_cast<WeightSlotHeader*>(ws.seg->base() + ws.seg->layout().weight_slot);
  // A reader process runs through all the kills and checks every copy it accepts.
  pid_t reader = spawn([&] {
    auto s = Segment::open(ws.g.name, true);
    WeightSlot r(*s);
    return reader_loop(r, ws.max_size, [&] { return s->control().stop_requested(); });
  });
  std::mt19937_64 rng(99);
  std::vector<uint8_t> out;
  for (int trial = 0; trial < 8; ++trial) {
    const uint64_t before = slot.latest_version();
    const bool by_hook = trial % 2 == 0;
    g_weight_kill_version = before + 1 + rng() % 3;
    pid_t publisher = spawn([&] {
      auto s = Segment::open(ws.g.name);
      WeightSlot p(*s);
      if (by_hook) testing::set_fault_hook(kill_publisher);
      std::vector<uint8_t> blob;
      for (uint64_t v = p.latest_version() + 1;; ++v) {
        fill_blob(v, &blob, ws.max_size);
        p.publish(blob.data(), blob.size(), v * 3 + 1);
      }
      return 0;
    });
    if (!by_hook) std::this_thread::sleep_for(std::chrono::microseconds(5000 + rng() % 20000));
    if (!by_hook) ::kill(publisher, SIGKILL);
    REQUIRE(wait_child(publisher) == 128 + SIGKILL);
    const uint64_t published = slot.latest_version();
    if (by_hook) {
      REQUIRE(published == g_weight_kill_version - 1);
      // Proof that it died mid-write: the buffer of the next version is odd (open).
      REQUIRE(header->buffers[g_weight_kill_version % 3].seq.load() % 2 == 1);
    }
    uint64_t tag = 0;
    REQUIRE(slot.read(&out, &tag) == published);
    if (published) {
      CHECK(tag == published * 3 + 1);
      CHECK(blob_ok(published, out, ws.max_size));
    }
  }
  // A restarted publisher continues the version sequence over the dead one's open buffer.
  std::vector<uint8_t> blob;
  uint64_t next = slot.latest_version() + 1;
  fill_blob(next, &blob, ws.max_size);
  CHECK(slot.publish(blob.data(), blob.size(), next * 3 + 1) == next);
  CHECK(slot.read(&out) == next);
  CHECK(blob_ok(next, out, ws.max_size));
  ws.seg->control().request_stop();
  CHECK(wait_child(reader) == 0);
}
