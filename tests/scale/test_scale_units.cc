// Units of scale-out against real things: a real redis-server for the message envelope, real
// files for the secret and the ingest's dedup table (including the crash-recovery rule:
// a pending update is applied exactly when its record was committed to the lane).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "common/redis/scale_protocol.h"
#include "learner/ingest_state.h"
#include "tests/scale/scale_test_util.h"
#include "tests/support/temp_dir.h"

using rz::IngestState;
namespace redis = rz::redis;

TEST_CASE("addresses, host ids and secrets are checked with one-line reasons") {
  std::string host;
  int port = 0;
  redis::parse_address("127.0.0.1:6390", &host, &port);
  CHECK(host == "127.0.0.1");
  CHECK(port == 6390);
  for (const char* bad : {"", "6390", ":6390", "host:", "host:0", "host:65536", "host:12x"})
    CHECK_THROWS_AS(redis::parse_address(bad, &host, &port), std::invalid_argument);
  CHECK(redis::check_host_id("host-B.1_x").empty());
  CHECK_FALSE(redis::check_host_id("").empty());
  CHECK_FALSE(redis::check_host_id("a b").empty());
  CHECK_FALSE(redis::check_host_id(std::string(65, 'a')).empty());

  const rz::testing::TempDir temp("scale-unit");
  const std::string& dir = temp.path();
  const std::string secret = redis::generate_secret_file(dir + "/s");
  struct stat st {};
  ::stat((dir + "/s").c_str(), &st);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(redis::read_secret_file(dir + "/s") == secret);
  ::chmod((dir + "/s").c_str(), 0644);
  try {
    redis::read_secret_file(dir + "/s");
    FAIL("a world-readable secret was accepted");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("chmod 600") != std::string::npos);
  }
  std::ofstream(dir + "/short") << "tiny\n";
  ::chmod((dir + "/short").c_str(), 0600);
  CHECK_THROWS(redis::read_secret_file(dir + "/short"));
  CHECK_THROWS(redis::read_secret_file(dir + "/missing"));
}

TEST_CASE("record messages: a well-formed entry parses; every kind of damage is named") {
  rz::testing::LocalRedis server("unit-test-secret-123456");
  redis::RedisClient c = server.client();
  auto add_and_read = [&](std::vector<std::string_view> fields) {
    std::vector<std::string_view> args = {"XADD", "s", "*"};
    args.insert(args.end(), fields.begin(), fields.end());
    c.command(args);
    const redis::Reply r = c.command({"XRANGE", "s", "-", "+"});
    c.command({"DEL", "s"});
    return r;
  };
  redis::RecordMessage m;
  {
    const redis::Reply r = add_and_read({"v", "1", "host", "hB", "epoch", "3", "lane", "2", "seq",
                                         "17", "rec", std::string_view("a\0b", 3)});
    REQUIRE(r.size() == 1);
    CHECK(redis::parse_record_message(r.element(0), &m) == "");
    CHECK(m.version == 1);
    CHECK(m.host == "hB");
    CHECK(m.epoch == 3);
    CHECK(m.lane == 2);
    CHECK(m.seq == 17);
    CHECK(m.record == std::string_view("a\0b", 3));
  }
  auto reason = [&](std::vector<std::string_view> fields) {
    const redis::Reply r = add_and_read(fields);
    redis::RecordMessage out;
    return redis::parse_record_message(r.element(0), &out);
  };
  CHECK(reason({"v", "1", "host", "hB", "epoch", "3", "lane", "2", "seq", "17"}) ==
        "field 'rec' missing");
  CHECK(reason({"v", "x", "host", "hB", "epoch", "3", "lane", "2", "seq", "1", "rec", "r"})
            .find("'v'") != std::string::npos);
  CHECK(reason({"v", "1", "host", "h B", "epoch", "3", "lane", "2", "seq", "1", "rec", "r"})
            .find("host") != std::string::npos);
  CHECK(reason({"v", "1", "host", "hB", "epoch", "-3", "lane", "2", "seq", "1", "rec", "r"})
            .find("epoch") != std::string::npos);
  CHECK(reason({"v", "1", "host", "hB", "epoch", "3", "lane", "99999", "seq", "1", "rec", "r"})
            .find("lane") != std::string::npos);
  CHECK(reason({"v", "1", "host", "hB", "epoch", "3", "lane", "2", "seq", "99999999999999999999999",
                "rec", "r"})
            .find("seq") != std::string::npos);
  // Bounds: epoch < 2^32, seq < 2^62 (a wrapped or hostile number is refused, not stored).
  CHECK(reason({"v", "1", "host", "hB", "epoch", "4294967296", "lane", "2", "seq", "1", "rec", "r"})
            .find("epoch") != std::string::npos);
  CHECK(reason({"v", "1", "host", "hB", "epoch", "4294967295", "lane", "2", "seq", "1", "rec",
                "r"}) == "");
  CHECK(reason({"v", "1", "host", "hB", "epoch", "3", "lane", "2", "seq", "4611686018427387904",
                "rec", "r"})
            .find("seq") != std::string::npos);
  CHECK(reason({"v", "1", "host", "hB", "epoch", "3", "lane", "2", "seq", "4611686018427387903",
                "rec", "r"}) == "");
  CHECK(
      reason({"v", "1", "v", "1", "host", "hB", "epoch", "3", "lane", "2", "seq", "1", "rec", "r"})
          .find("twice") != std::string::npos);
  CHECK(reason({"zzz", "1"}).find("unknown field") != std::string::npos);
}

TEST_CASE(
    "ingest dedup table: duplicates, gaps, epochs - and the pending update is applied exactly "
    "when the lane committed its record") {
  const rz::testing::TempDir temp("scale-unit");
  const std::string& dir = temp.path();
  const std::string path = dir + "/ingest.state";
  uint64_t gap = 0;
  uint32_t handle = 0;
  {
    IngestState s(path, /*generation=*/1, /*lane_committed=*/0);
    REQUIRE(s.check("hB", 1, 0, 0, true, &gap, &handle) == IngestState::Verdict::kAccept);
    CHECK(gap == 0);
    s.prepare(handle, 0, gap, /*local_seq=*/0);
    s.finish();
    CHECK(s.check("hB", 1, 0, 0, true, &gap, &handle) == IngestState::Verdict::kDuplicate);
    // Not allowed to advance (a new entry, before a pass over the pending ones): a record
    // that skips sequences is held, and holding it changes nothing.
    CHECK(s.check("hB", 1, 0, 3, false, &gap, &handle) == IngestState::Verdict::kHold);
    CHECK(s.check("hB", 1, 0, 1, false, &gap, &handle) == IngestState::Verdict::kAccept);
    CHECK(s.check("hB", 1, 0, 0, false, &gap, &handle) == IngestState::Verdict::kDuplicate);
    REQUIRE(s.check("hB", 1, 0, 3, true, &gap, &handle) == IngestState::Verdict::kAccept);
    CHECK(gap == 2);
    s.prepare(handle, 3, gap, 1);
    s.finish();
    CHECK(s.hosts().at(0).ingested == 2);
    CHECK(s.hosts().at(0).gaps == 2);
    // Killed after prepare(), BEFORE the lane commit: (simulated by not calling finish()).
    REQUIRE(s.check("hB", 1, 0, 4, true, &gap, &handle) == IngestState::Verdict::kAccept);
    s.prepare(handle, 4, gap, 2);
  }
  {
    // The lane has 2 records: sequence 2 was never committed. The update is dropped.
    IngestState s(path, 1, /*lane_committed=*/2);
    CHECK(s.resolved_on_open() == 0);
    CHECK(s.hosts().at(0).ingested == 2);
    REQUIRE(s.check("hB", 1, 0, 4, true, &gap, &handle) ==
            IngestState::Verdict::kAccept);  // comes again
    // Killed after the lane commit, before finish():
    s.prepare(handle, 4, gap, 2);
  }
  {
    // The lane has 3 records: sequence 2 was committed. The update is applied.
    IngestState s(path, 1, /*lane_committed=*/3);
    CHECK(s.resolved_on_open() == 1);
    CHECK(s.hosts().at(0).ingested == 3);
    CHECK(s.check("hB", 1, 0, 4, true, &gap, &handle) == IngestState::Verdict::kDuplicate);
    // A new epoch of the actor host: held without may_advance (epoch 1 stays current), then
    // its lanes count from 0 again; an old epoch is stale.
    CHECK(s.check("hB", 2, 0, 0, false, &gap, &handle) == IngestState::Verdict::kHold);
    CHECK(s.hosts().at(0).epoch == 1);
    CHECK(s.check("hB", 1, 0, 4, false, &gap, &handle) == IngestState::Verdict::kDuplicate);
    REQUIRE(s.check("hB", 2, 0, 0, true, &gap, &handle) == IngestState::Verdict::kAccept);
    CHECK(gap == 0);
    CHECK(s.check("hB", 1, 0, 9, true, &gap, &handle) == IngestState::Verdict::kDuplicate);
    // An implausible epoch leap is refused and changes nothing: epoch 2 stays current.
    CHECK(s.check("hB", 2 + IngestState::kMaxEpochJump + 1, 0, 0, true, &gap, &handle) ==
          IngestState::Verdict::kEpochJump);
    CHECK(s.check("hB", 2, 0, 5, true, &gap, &handle) == IngestState::Verdict::kAccept);
    CHECK(s.hosts().at(0).epoch == 2);
    CHECK(s.check("hC", IngestState::kMaxEpochJump + 1, 0, 0, true, &gap, &handle) ==
          IngestState::Verdict::kEpochJump);
    CHECK(s.check("hC", IngestState::kMaxEpochJump, 0, 0, true, &gap, &handle) ==
          IngestState::Verdict::kAccept);
    // Opening it again resolves nothing twice (idempotent).
  }
  {
    IngestState s(path, 1, 3);
    CHECK(s.hosts().at(0).ingested == 3);
    CHECK(s.hosts().at(0).gaps == 2);
  }
  // A SIGKILL while the file was being created (sized, some words written, the magic, stored
  // last, not yet): the next open initialises it again instead of refusing every restart.
  {
    const std::string cut = dir + "/cut.state";
    { IngestState s(cut, 1, 0); }
    const auto size = std::filesystem::file_size(cut);
    {
      std::fstream f(cut, std::ios::in | std::ios::out | std::ios::binary);
      const char zero[8] = {};
      f.write(zero, sizeof zero);  // the magic (first word) never written; the version was
    }
    CHECK(std::filesystem::file_size(cut) == size);
    IngestState s(cut, 1, 0);
    CHECK(s.hosts().empty());
    CHECK(s.check("hB", 1, 0, 0, true, &gap, &handle) == IngestState::Verdict::kAccept);
  }
  // Not an ingest state: refused in one line, untouched.
  std::ofstream(dir + "/junk") << "hello";
  CHECK_THROWS_WITH(IngestState(dir + "/junk", 1, 0), Catch::Contains("not an ingest state"));
}

// The relay's pipelined consumption on a real segment: records read ahead stay in the lane until
// release_through, and a consumer SIGKILLed with records read ahead (and some released) leaves
// the next consumer exactly at the first unreleased one.
#include "shm/trajectory_ring.h"
#include "tests/shm/shm_test_util.h"

TEST_CASE(
    "ring read-ahead: release_through frees a prefix - rewind re-reads - a SIGKILLed "
    "consumer's successor starts at the first unreleased record") {
  using namespace rz::shm;
  const std::string name = rz::shm::test::unique_name("readahead");
  rz::shm::test::SegmentGuard guard(name);
  auto seg = Segment::create(name, rz::shm::test::small_sizes(2), "test");
  {
    LaneWriter w0(*seg, 0), w1(*seg, 1);
    for (uint64_t i = 0; i < 10; ++i) {
      const uint64_t v = i;
      REQUIRE(w0.write(&v, sizeof v));
      REQUIRE(w1.write(&v, sizeof v));
    }
  }
  {
    RingReader r(*seg);
    int seen = 0;
    while (auto rec = r.read_ahead()) ++seen;
    CHECK(seen == 20);
    CHECK(lane_status(*seg)[0].records_consumed == 0);  // nothing released yet
    r.release_through(0, 3);
    CHECK(lane_status(*seg)[0].records_consumed == 4);
    CHECK(lane_status(*seg)[1].records_consumed == 0);
    r.rewind();  // a failed send: read again from the first unreleased record of each lane
    auto again = r.read_ahead();
    REQUIRE(again);
    CHECK(
        ((again->lane == 0 && again->sequence == 4) || (again->lane == 1 && again->sequence == 0)));
  }
  const pid_t child = rz::shm::test::spawn([&] {
    auto s = Segment::open(name);
    RingReader r(*s);
    int n = 0;
    while (r.read_ahead()) ++n;
    r.release_through(1, 6);
    ::raise(SIGKILL);  // records 4..9 of lane 0 and 7..9 of lane 1 read ahead, not released
    return n;
  });
  CHECK(rz::shm::test::wait_child(child) == 128 + SIGKILL);
  RingReader next(*seg);
  CHECK(next.took_over());
  std::vector<std::pair<uint32_t, uint64_t>> got;
  while (auto rec = next.peek()) {
    uint64_t v = 0;
    std::memcpy(&v, rec->data, sizeof v);
    CHECK(v == rec->sequence);
    got.emplace_back(rec->lane, rec->sequence);
    next.release(*rec);
  }
  CHECK(got.size() == 6 + 3);
  for (const auto& [lane, seq] : got) CHECK(seq >= (lane == 0 ? 4u : 7u));
}
