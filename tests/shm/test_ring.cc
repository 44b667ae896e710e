// TrajectoryRing within one process: records round-trip, wrap-around, maximum sizes, full
// lanes, ownership, corrupt headers, and a multi-thread run (also under ThreadSanitizer).
#include <catch2/catch.hpp>
#include <random>
#include <thread>

#include "shm/layout.h"
#include "shm/trajectory_ring.h"
#include "tests/shm/shm_test_util.h"

using namespace rz::shm;
using namespace rz::shm::test;

namespace {
// Drains everything currently in the ring, checking payloads and per-lane order.
size_t drain(RingReader& r, std::vector<uint64_t>& next_seq, size_t max_size) {
  size_t n = 0;
  std::string buf;
  while (auto rec = r.peek()) {
    REQUIRE(rec->sequence == next_seq[rec->lane]);
    REQUIRE(payload_ok(rec->lane, rec->sequence, rec->data, rec->size, max_size, &buf));
    ++next_seq[rec->lane];
    r.release(*rec);
    ++n;
  }
  return n;
}
}  // namespace

TEST_CASE("ring: records round-trip with wrap-around across many laps", "[ring]") {
  SegmentGuard g(unique_name("ring"));
  const size_t max_size = 3000;
  auto seg = Segment::create(g.name, small_sizes(2, 16384, max_size), "");
  LaneWriter w0(*seg, 0), w1(*seg, 1);
  RingReader r(*seg);
  std::vector<uint64_t> next(2, 0);
  std::vector<uint8_t> buf(max_size);
  size_t written = 0, read = 0;
  // Each lane holds only a few records, so 2000 records wrap each lane ~100 times and hit
  // padding markers, implicit gaps and exact fits.
  for (uint64_t seq = 0; seq < 2000; ++seq) {
    for (uint32_t lane = 0; lane < 2; ++lane) {
      LaneWriter& w = lane ? w1 : w0;
      size_t size = payload_size(lane, seq, max_size);
      fill_payload(lane, seq, buf.data(), size);
      CHECK(w.next_sequence() == seq);
      REQUIRE(w.write(buf.data(), size));
      ++written;
    }
    if (seq % 2 == 1) read += drain(r, next, max_size);
  }
  read += drain(r, next, max_size);
  CHECK(read == written);
  CHECK(r.corrupt_records_skipped() == 0);
  auto status = lane_status(*seg);
  REQUIRE(status.size() == 2);
  CHECK(status[0].records_committed == 2000);
  CHECK(status[0].records_consumed == 2000);
  CHECK(status[0].bytes_in_flight == 0);
  CHECK(status[0].owner_alive);
  CHECK(status[0].owner_pid == uint32_t(::getpid()));
  CHECK(status[1].tail > 16384 * 50);
}

TEST_CASE("ring: maximum-size and empty records; oversize is refused", "[ring]") {
  SegmentGuard g(unique_name("ringmax"));
  const size_t max_size = 1 << 20;
  auto seg = Segment::create(g.name, small_sizes(1, 2 * record_span(max_size), max_size), "");
  LaneWriter w(*seg, 0);
  RingReader r(*seg);
  std::vector<uint8_t> big(max_size + 1);
  for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t(i * 7);
  CHECK_THROWS_WITH(w.write(big.data(), max_size + 1), Catch::Contains("exceeds max_record_bytes"));
  // Alternate odd sizes near the maximum so records land at every alignment, including the
  // case where the lane is empty but the record must wrap to offset 0.
  for (int i = 0; i < 20; ++i) {
    size_t size = i % 3 == 0 ? max_size : (i % 3 == 1 ? 0 : max_size - 17);
    REQUIRE(w.write(big.data(), size));
    auto rec = r.peek();
    REQUIRE(rec);
    CHECK(rec->size == size);
    CHECK(std::memcmp(rec->data, big.data(), size) == 0);
    CHECK(rec->sequence == uint64_t(i));
    r.release(*rec);
    CHECK_FALSE(r.peek());
  }
}

TEST_CASE("ring: peek returns the held record until release; release checks it", "[ring]") {
  SegmentGuard g(unique_name("ringhold"));
  auto seg = Segment::create(g.name, small_sizes(), "");
  LaneWriter w(*seg, 1);
  RingReader r(*seg);
  CHECK_FALSE(r.peek());
  CHECK_FALSE(r.wait(std::chrono::milliseconds(5)));
  uint32_t a = 1, b = 2;
  REQUIRE(w.write(&a, 4));
  REQUIRE(w.write(&b, 4));
  CHECK(r.wait(std::chrono::milliseconds(5)));
  auto first = r.peek();
  REQUIRE(first);
  auto again = r.peek();
  CHECK(again->sequence == first->sequence);
  RingReader::Record fake = *first;
  fake.sequence = 99;
  CHECK_THROWS_WITH(r.release(fake), Catch::Contains("not the one held"));
  r.release(*first);
  auto second = r.peek();
  REQUIRE(second);
  CHECK(second->sequence == 1);
  CHECK(*reinterpret_cast<const uint32_t*>(second->data) == 2);
}

TEST_CASE("ring: reserve/commit writes in place", "[ring]") {
  SegmentGuard g(unique_name("ringres"));
  auto seg = Segment::create(g.name, small_sizes(), "");
  LaneWriter w(*seg, 0);
  RingReader r(*seg);
  uint8_t* p = w.reserve(100);
  REQUIRE(p);
  CHECK_FALSE(r.peek());  // nothing visible before commit
  for (int i = 0; i < 100; ++i) p[i] = uint8_t(i);
  CHECK_THROWS(w.reserve(10));
  w.commit();
  auto rec = r.peek();
  REQUIRE(rec);
  CHECK(rec->size == 100);
  CHECK(rec->data[99] == 99);
  CHECK_THROWS(w.commit());
}

TEST_CASE("ring: a full lane blocks the producer until space frees, or until stop", "[ring]") {
  SegmentGuard g(unique_name("ringfull"));
  auto seg = Segment::create(g.name, small_sizes(1, 8192, 1024), "");
  LaneWriter w(*seg, 0);
  std::vector<uint8_t> rec(1000, 1);
  int n = 0;
  std::atomic<uint32_t> stop{0};
  // Fill: 8192 / 1040 = 7 records fit.
  for (; n < 7; ++n) REQUIRE(w.write(rec.data(), rec.size(), &stop));
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    stop.store(1);
  });
  CHECK_FALSE(w.write(rec.data(), rec.size(), &stop));  // blocked, then stopped: not written
  stopper.join();
  CHECK(w.next_sequence() == 7);
  RingReader r(*seg);
  std::thread consumer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    auto got = r.peek();
    r.release(*got);
  });
  CHECK(w.write(rec.data(), rec.size()));  // wakes when the consumer frees a record
  consumer.join();
  CHECK(lane_status(*seg)[0].records_committed == 8);
}

TEST_CASE("ring: a corrupt head in shared memory is refused by the producer, never trusted",
          "[ring]") {
  SegmentGuard g(unique_name("ringhead"));
  auto seg = Segment::create(g.name, small_sizes(1, 8192, 1024), "");
  LaneControl& control = lane_control(*seg);
  std::vector<uint8_t> rec(1000, 7);
  std::atomic<uint32_t> stop{1};  // a write that would have to wait returns false at once
  {
    // Two laps through the lane so that tail > lane_bytes, then fill it.
    LaneWriter w(*seg, 0);
    RingReader r(*seg);
    for (int i = 0; i < 20; ++i) {
      REQUIRE(w.write(rec.data(), rec.size(), &stop));
      r.release(*r.peek());
    }
    int n = 0;
    while (w.write(rec.data(), rec.size(), &stop)) ++n;
    REQUIRE(n >= 6);  // 8192 / 1040 = 7, one less if padding is needed: the lane is full
    const uint64_t tail = control.tail.load();
    const uint64_t head = control.head.load();
    REQUIRE(tail > 8192);
    const std::string corrupt = "lane 0 of " + g.name + " has a corrupt head";
    // A head a lap behind the tail: fits() would see 8192 - (tail - head) wrap to a huge
    // free space and overwrite the 7 records not yet consumed.
    control.head.store(tail - 8192 - 64);
    CHECK_THROWS_WITH(w.write(rec.data(), rec.size(), &stop), Catch::StartsWith(corrupt));
    // A head ahead of the tail: tail - head wraps the other way.
    control.head.store(tail + 64);
    CHECK_THROWS_WITH(w.write(rec.data(), rec.size(), &stop), Catch::StartsWith(corrupt));
    CHECK(control.tail.load() == tail);  // nothing was written
    control.head.store(head);
    CHECK(r.peek());  // the records are intact
  }
  // A new owner checks the head it finds too, and leaves the lane free when it refuses.
  control.head.store(control.tail.load() + 64);
  CHECK_THROWS_WITH(LaneWriter(*seg, 0), Catch::Contains("has a corrupt head"));
  control.head.store(control.tail.load());
  LaneWriter again(*seg, 0);
  CHECK(again.write(rec.data(), rec.size(), &stop));
}

TEST_CASE("ring: a lane or the consumer role held by a live process is refused", "[ring]") {
  SegmentGuard g(unique_name("ringown"));
  auto seg = Segment::create(g.name, small_sizes(), "");
  {
    LaneWriter w(*seg, 0);
    CHECK_THROWS_WITH(LaneWriter(*seg, 0),
                      Catch::Contains("lane 0 of " + g.name + " is owned by live process"));
    RingReader r(*seg);
    CHECK_THROWS_WITH(RingReader(*seg), Catch::Contains("already has a live consumer"));
  }
  CHECK_THROWS_WITH(LaneWriter(*seg, 2), Catch::Contains("lane 2 does not exist"));
  LaneWriter again(*seg, 0);  // released by the destructor: free again
  CHECK_FALSE(again.took_over());
  auto ro = Segment::open(g.name, true);
  CHECK_THROWS_WITH(LaneWriter(*ro, 1), Catch::Contains("read-only"));
}

TEST_CASE("ring: corrupt headers and payloads are skipped and counted, never trusted", "[ring]") {
  OneLaneSegment one_lane("ringbad");
  Segment& seg = *one_lane.seg;
  LaneWriter w(seg, 0);
  RingReader r(seg);
  std::vector<uint8_t> rec(200, 5);
  auto write_and_corrupt = [&](auto corrupt) {
    RecordHeader* header = one_lane.next_header();
    REQUIRE(w.write(rec.data(), rec.size()));
    corrupt(header);
    CHECK_FALSE(r.peek());
  };
  write_and_corrupt([](RecordHeader* h) { h->size = 1u << 30; });  // length way out
  write_and_corrupt([](RecordHeader* h) { h->size = 4000; });      // beyond tail
  write_and_corrupt([](RecordHeader* h) { h->lane = 3; });         // wrong producer
  write_and_corrupt([](RecordHeader* h) { h->kind = 0; });         // not a record
  write_and_corrupt([](RecordHeader* h) { reinterpret_cast<uint8_t*>(h + 1)[7] ^= 1; });  // payload
  CHECK(r.corrupt_records_skipped() == 5);
  // After a skip the lane resyncs: the next good record is delivered.
  REQUIRE(w.write(rec.data(), rec.size()));
  auto good = r.peek();
  REQUIRE(good);
  CHECK(good->sequence == 5);
  r.release(*good);
  // A wrong sequence number (e.g. a stale record from an older lap) is refused too.
  write_and_corrupt([](RecordHeader* h) { h->sequence = 2; });
  CHECK(r.corrupt_records_skipped() == 6);
  // A tail that claims more than the lane holds.
  LaneControl& control = lane_control(seg);
  control.tail.store(control.head.load() + (1 << 20));
  CHECK_FALSE(r.peek());
  CHECK(r.corrupt_records_skipped() == 7);
}

TEST_CASE("ring: a tail ending in the gap at the lane end is skipped, not waited on forever",
          "[ring]") {
  OneLaneSegment one_lane("ringgap");
  Segment& seg = *one_lane.seg;
  // Head 16 bytes before the lane end (too little for a header: an implicit gap) and a tail
  // that ends exactly at the lane end, with no record after the gap.
  lane_control(seg).head.store(OneLaneSegment::kLaneBytes - 16);
  lane_control(seg).tail.store(OneLaneSegment::kLaneBytes);
  RingReader r(seg);
  CHECK_FALSE(r.peek());
  CHECK(r.corrupt_records_skipped() == 1);
  CHECK_FALSE(r.wait(std::chrono::milliseconds(5)));
  // The lane works normally afterwards.
  LaneWriter w(seg, 0);
  uint64_t x = 42;
  REQUIRE(w.write(&x, 8));
  auto rec = r.peek();
  REQUIRE(rec);
  CHECK(*reinterpret_cast<const uint64_t*>(rec->data) == 42);
}

TEST_CASE("ring: producer threads and a consumer thread move 4 x 20k records in order",
          "[ring][threads]") {
  SegmentGuard g(unique_name("ringthr"));
  const uint32_t lanes = 4;
  const size_t max_size = 2000;
  const uint64_t per_lane = 20000;
  auto seg = Segment::create(g.name, small_sizes(lanes, 32768, max_size), "");
  std::vector<std::thread> producers;
  for (uint32_t lane = 0; lane < lanes; ++lane)
    producers.emplace_back([&, lane] {
      LaneWriter w(*seg, lane);
      std::vector<uint8_t> buf(max_size);
      for (uint64_t seq = 0; seq < per_lane; ++seq) {
        size_t size = payload_size(lane, seq, max_size);
        fill_payload(lane, seq, buf.data(), size);
        if (!w.write(buf.data(), size)) return;  // no stop flag: never false
      }
    });
  RingReader r(*seg);
  std::vector<uint64_t> next(lanes, 0);
  uint64_t total = 0;
  std::string buf;
  while (total < lanes * per_lane) {
    auto rec = r.peek();
    if (!rec) {
      r.wait(std::chrono::milliseconds(100));
      continue;
    }
    REQUIRE(rec->sequence == next[rec->lane]);
    REQUIRE(payload_ok(rec->lane, rec->sequence, rec->data, rec->size, max_size, &buf));
    ++next[rec->lane];
    r.release(*rec);
    ++total;
  }
  for (auto& p : producers) p.join();
  CHECK(r.corrupt_records_skipped() == 0);
  CHECK_FALSE(r.peek());
}

TEST_CASE(
    "ring read-ahead: rewind keeps the resync state at head - a corrupt stretch behind "
    "unreleased records never moves the shared head past them",
    "[ring]") {
  OneLaneSegment one_lane("ringahead");
  Segment* seg = one_lane.seg.get();
  LaneWriter w(*seg, 0);
  RingReader r(*seg);
  std::vector<uint8_t> rec(200, 5);
  auto write_corrupt = [&] {
    RecordHeader* header = one_lane.next_header();
    REQUIRE(w.write(rec.data(), rec.size()));
    header->kind = 0;
  };
  // 1. Record 0 corrupt: skipped (nothing read ahead, so head moves on) - the lane resyncs.
  write_corrupt();
  CHECK_FALSE(r.read_ahead());
  CHECK(r.corrupt_records_skipped() == 1);
  REQUIRE(w.write(rec.data(), rec.size()));  // sequence 1
  auto one = r.read_ahead();
  REQUIRE(one);
  CHECK(one->sequence == 1);
  // A failed send: rewind. Record 1 is at head, where the lane is still in resync: it must be
  // read again, not taken for corruption (its sequence is not the 0 expected before the skip).
  r.rewind();
  auto again = r.read_ahead();
  REQUIRE(again);
  CHECK(again->sequence == 1);
  CHECK(r.corrupt_records_skipped() == 1);
  r.release_through(0, 1);
  CHECK(lane_status(*seg)[0].records_consumed == 2);

  // 2. Records 2 and 3 read ahead (in flight), then a corrupt record 4.
  REQUIRE(w.write(rec.data(), rec.size()));
  REQUIRE(w.write(rec.data(), rec.size()));
  const uint64_t head_before = lane_status(*seg)[0].head;
  write_corrupt();
  auto two = r.read_ahead();
  auto three = r.read_ahead();
  REQUIRE((two && three));
  CHECK((two->sequence == 2 && three->sequence == 3));
  CHECK_FALSE(r.read_ahead());
  CHECK(r.corrupt_records_skipped() == 2);
  // The shared head stays before records 2 and 3: they are not released yet.
  CHECK(lane_status(*seg)[0].head == head_before);
  CHECK(lane_status(*seg)[0].records_consumed == 2);
  // The send failed: both come again (the stretch is skipped again after them).
  r.rewind();
  auto two_again = r.read_ahead();
  REQUIRE(two_again);
  CHECK(two_again->sequence == 2);
  std::vector<uint8_t> copy(two_again->data, two_again->data + two_again->size);
  CHECK(copy == rec);
  auto three_again = r.read_ahead();
  REQUIRE(three_again);
  CHECK(three_again->sequence == 3);
  CHECK_FALSE(r.read_ahead());
  // A good record after the stretch is accepted (resync), and releasing it frees everything.
  REQUIRE(w.write(rec.data(), rec.size()));  // sequence 5
  auto five = r.read_ahead();
  REQUIRE(five);
  CHECK(five->sequence == 5);
  r.release_through(0, 3);
  CHECK(lane_status(*seg)[0].records_consumed == 4);
  r.release_through(0, 5);
  CHECK(lane_status(*seg)[0].records_consumed == 6);
  CHECK(lane_status(*seg)[0].head == lane_status(*seg)[0].tail);
}
