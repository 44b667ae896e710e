// ringzero-bench-solver as a real process: it checks every score it computes, so a file with
// a wrong score must fail the run; bad options are one-line errors.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

namespace {

const std::string kBench = std::string(RZ_BINARY_DIR) + "/common/eval/ringzero-bench-solver";

std::pair<int, std::string> run(const std::string& args) {
  std::string out;
  FILE* p = popen((kBench + " " + args + " 2>&1").c_str(), "r");
  REQUIRE(p);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

}  // namespace

TEST_CASE("ringzero-bench-solver: runs the four sets beside Pons' figures") {
  const auto [status, out] = run("--limit 5 --tt-log2 20 --json");
  INFO(out);
  CHECK(status == 0);
  for (const char* file : {"Test_L3_R1", "Test_L2_R1", "Test_L2_R2", "Test_L1_R1"})
    CHECK_THAT(out, Catch::Contains(file));
  CHECK_THAT(out, Catch::Contains("\"published_mean_us\": 3200"));
  CHECK_THAT(out, Catch::Contains("\"wrong\": 0"));
}

TEST_CASE("ringzero-bench-solver: a wrong score in the file fails the run") {
  std::ofstream("bench_wrong.txt") << "4455 18\n2252576253462244111563365343671351441 5\n";
  const auto [status, out] = run("--tt-log2 20 bench_wrong.txt");
  CHECK(status == 1);
  CHECK_THAT(out, Catch::Contains("WRONG bench_wrong.txt:2"));
  std::remove("bench_wrong.txt");
}

TEST_CASE("ringzero-bench-solver: bad options and files are one-line errors") {
  auto [status, out] = run("--limit x");
  CHECK(status == 2);
  CHECK_THAT(out, Catch::Contains("--limit"));
  std::tie(status, out) = run("no-such-file");
  CHECK(status == 1);
  CHECK_THAT(out, Catch::Contains("no-such-file"));
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
}
