// The protobuf encoder and the TensorBoard event file, byte by byte, without Python: varint
// and field encodings against the protobuf documentation's examples, CRC-32C against its
// standard check value, and an event file read back through its TFRecord framing (lengths,
// masked CRCs) and decoded. TensorBoard's own reader is tests/export/check_export.sh's job.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "common/eval/eval_csv.h"
#include "common/protobuf_writer.h"
#include "common/tensorboard_log.h"
#include "learner/metrics_csv.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace rz {
namespace {

std::string hex(const std::string& s) {
  std::string out;
  char b[4];
  for (unsigned char c : s) {
    std::snprintf(b, sizeof b, "%02x", c);
    out += b;
  }
  return out;
}

// A minimal protobuf reader for the checks: field number -> raw values (varints as numbers
// in `ints`, length-delimited and fixed fields as bytes in `bytes`).
struct Fields {
  std::multimap<int, uint64_t> ints;
  std::multimap<int, std::string> bytes;
};

uint64_t read_varint(const std::string& s, size_t* pos) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    REQUIRE(*pos < s.size());
    const uint8_t b = static_cast<uint8_t>(s[(*pos)++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  FAIL("varint too long");
  return 0;
}

Fields parse(const std::string& s) {
  Fields f;
  size_t pos = 0;
  while (pos < s.size()) {
    const uint64_t key = read_varint(s, &pos);
    const int field = static_cast<int>(key >> 3), type = static_cast<int>(key & 7);
    if (type == 0) {
      f.ints.emplace(field, read_varint(s, &pos));
    } else {
      const size_t n = type == 1 ? 8 : type == 5 ? 4 : read_varint(s, &pos);
      REQUIRE((type == 1 || type == 5 || type == 2));
      REQUIRE(pos + n <= s.size());
      f.bytes.emplace(field, s.substr(pos, n));
      pos += n;
    }
  }
  return f;
}

uint32_t masked(uint32_t c) {
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

}  // namespace

TEST_CASE("ProtoWriter encodes fields as the protobuf documentation does", "[export][proto]") {
  // https://protobuf.dev/programming-guides/encoding/: field 1 = 150 is 08 96 01; field 2 =
  // "testing" is 12 07 74 65 73 74 69 6e 67; a nested message field 3 {1: 150} is 1a 03 08 96 01.
  CHECK(hex(ProtoWriter().varint(1, 150).data()) == "089601");
  CHECK(hex(ProtoWriter().bytes(2, "testing").data()) == "120774657374696e67");
  ProtoWriter inner;
  inner.varint(1, 150);
  CHECK(hex(ProtoWriter().message(3, inner).data()) == "1a03089601");
  // int64 -1: ten bytes of two's complement.
  CHECK(hex(ProtoWriter().varint(1, -1).data()) == "08ffffffffffffffffff01");
  CHECK(hex(ProtoWriter().float_field(2, 1.0f).data()) == "150000803f");
  CHECK(hex(ProtoWriter().double_field(1, 1.0).data()) == "09000000000000f03f");
  CHECK(hex(ProtoWriter().packed_varints(4, {3, 270, 86942}).data()) == "2206038e029ea705");
  // Field numbers above 15 take a two-byte key.
  CHECK(hex(ProtoWriter().varint(20, 2).data()) == "a00102");
}

TEST_CASE("crc32c matches the standard check value", "[export][proto]") {
  CHECK(crc32c("123456789", 9) == 0xE3069283u);
  CHECK(crc32c("", 0) == 0u);
}

TEST_CASE("TensorBoardLog writes framed, checksummed events, private to the user", "[export]") {
  const rz::testing::TempDir run_dir("tb-test");
  const std::string& run = run_dir.path();
  std::string path;
  {
    TensorBoardLog log(run, "learner");
    path = log.path();
    log.start_session(5, 1230.0);
    log.write_scalars(7, 1234.5,
                      {{"loss_total", 2.5},
                       {"loss_value", std::nan("")},
                       {"elo", INFINITY},
                       {"samples_per_s", 100.25}});
    log.write_scalars(9, 1240.0, {{"loss_total", std::nan("")}});  // nothing finite: no event
    log.write_scalars(11, 1250.0, {{"loss_total", 1.5}});
  }
  CHECK(path.rfind(run + "/tensorboard/learner/events.out.tfevents.", 0) == 0);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((run + "/tensorboard/learner").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  const std::string file = rz::testing::read_file(path);
  std::vector<Fields> events;
  size_t pos = 0;
  while (pos < file.size()) {
    REQUIRE(pos + 12 <= file.size());
    uint64_t length;
    uint32_t length_crc, data_crc;
    std::memcpy(&length, file.data() + pos, 8);
    std::memcpy(&length_crc, file.data() + pos + 8, 4);
    CHECK(length_crc == masked(crc32c(file.data() + pos, 8)));
    REQUIRE(pos + 12 + length + 4 <= file.size());
    const std::string data = file.substr(pos + 12, length);
    std::memcpy(&data_crc, file.data() + pos + 12 + length, 4);
    CHECK(data_crc == masked(crc32c(data.data(), data.size())));
    events.push_back(parse(data));
    pos += 12 + length + 4;
  }
  REQUIRE(events.size() == 4);  // the version record, the session start, two scalar events
  CHECK(events[0].bytes.find(3)->second == "brain.Event:2");
  CHECK(events[1].ints.find(2)->second == 5);
  CHECK(parse(events[1].bytes.find(7)->second).ints.find(1)->second == 1);  // START
  CHECK(events[2].ints.find(2)->second == 7);
  double wall;
  std::memcpy(&wall, events[2].bytes.find(1)->second.data(), 8);
  CHECK(wall == 1234.5);
  const Fields summary = parse(events[2].bytes.find(5)->second);
  std::map<std::string, float> values;
  for (auto it = summary.bytes.lower_bound(1); it != summary.bytes.upper_bound(1); ++it) {
    const Fields v = parse(it->second);
    float f;
    std::memcpy(&f, v.bytes.find(2)->second.data(), 4);
    values[v.bytes.find(1)->second] = f;
  }
  CHECK(values == std::map<std::string, float>{{"loss_total", 2.5f}, {"samples_per_s", 100.25f}});
  CHECK(events[3].ints.find(2)->second == 11);

  // A second log (a restarted process) starts its own file beside the first.
  {
    TensorBoardLog again(run, "learner");
    CHECK(again.path() != path);
  }
}

}  // namespace rz

// The TensorBoard tags are the CSV column names: every column but time and step, in order.
namespace rz {
namespace {
std::vector<std::string> csv_columns(std::string header) {
  while (!header.empty() && header.back() == '\n') header.pop_back();
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t comma; (comma = header.find(',', start)) != std::string::npos; start = comma + 1)
    out.push_back(header.substr(start, comma - start));
  out.push_back(header.substr(start));
  out.erase(out.begin(), out.begin() + 2);  // time, step
  return out;
}
template <typename Pairs>
std::vector<std::string> names(const Pairs& pairs) {
  std::vector<std::string> out;
  for (const auto& p : pairs) out.push_back(p.first);
  return out;
}
}  // namespace

TEST_CASE("the TensorBoard tags are metrics.csv's and eval.csv's column names", "[export]") {
  MetricsRow m;
  m.loss_total = 1.25;
  m.samples_per_s = 300;
  const auto ms = metrics_scalars(m);
  CHECK(names(ms) == csv_columns(MetricsCsv::header()));
  CHECK(ms[0].second == 1.25);

  EvalRow e;
  e.won = 3;
  e.elo = 120.5;
  auto without = csv_columns(kEvalCsvHeader);
  // The eight accuracies: only when measured (the two per-colour scores follow them), and the
  // four columns of the second arena: only when it was played.
  without.erase(without.end() - 4, without.end());
  without.erase(without.end() - 10, without.end() - 2);
  CHECK(names(eval_scalars(e)) == without);
  e.policy_accuracy_keep = 0.8;
  e.policy_accuracy_optimal = 0.7;
  e.mcts_accuracy_keep = 0.95;
  e.mcts_accuracy_optimal = 0.9;
  e.early_middle_policy_accuracy_keep = 0.85;
  e.early_middle_policy_accuracy_optimal = 0.6;
  e.early_middle_mcts_accuracy_keep = 0.9;
  e.early_middle_mcts_accuracy_optimal = 0.8;
  e.strong_opponent_sims = 1000;
  e.strong_score = 0.25;
  const auto es = eval_scalars(e);
  CHECK(names(es) == csv_columns(kEvalCsvHeader));
  CHECK(es[es.size() - 7].second == 0.8);
  CHECK(es.back().second == 0);  // strong_score_as_second
  CHECK(es[2].second == 3);      // won
}

}  // namespace rz
