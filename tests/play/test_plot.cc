// launch/plot.sh as users run it: the real script and the real gnuplot on a metrics.csv
// written by the learner's own writer (learner/metrics_csv.h), with and without eval.csv,
// and its one-line errors.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "learner/metrics_csv.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

using namespace rz;
using namespace rz::testing;

namespace {

const std::string kPlot = std::string(RZ_SOURCE_DIR) + "/launch/plot.sh";

// `rows` rows as a learner writes them over a run of rows * 10 s: losses falling, weight
// versions rising, throughput around a level.
void write_metrics(const std::string& run_dir, int rows) {
  MetricsCsv csv(run_dir + "/metrics.csv");
  for (int i = 0; i < rows; ++i) {
    MetricsRow r;
    r.time = 1.8e9 + 10.0 * i;
    r.step = static_cast<uint64_t>(50 * (i + 1));
    r.loss_policy = 2.0 * std::exp(-0.05 * i) + 0.5;
    r.loss_value = 0.9 * std::exp(-0.03 * i) + 0.2;
    r.loss_total = r.loss_policy + r.loss_value;
    // The first intervals of a real run train nothing yet: the learner leaves their losses
    // empty (NaN), and the plots must cope with the gaps.
    if (i < 2) r.loss_policy = r.loss_value = r.loss_total = std::nan("");
    r.replay_positions = static_cast<uint64_t>(1000 * (i + 1));
    r.new_positions_per_s = 200 + 20 * std::sin(i);
    r.samples_per_s = 900 + 80 * std::cos(i);
    r.weight_version = static_cast<uint64_t>(5 * i + 1);
    r.mean_version_lag = 0.4;
    r.records_consumed = static_cast<uint64_t>(40 * i);
    r.samples_per_position = 4;
    MetricsRow copy = r;
    csv.append(copy);
  }
}

// A PNG file: the 8-byte signature, an IHDR chunk, and more than a trivial image's bytes.
void check_png(const std::string& path) {
  INFO(path);
  const std::string data = read_file(path);
  REQUIRE(data.size() > 2000);
  CHECK(data.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) == 0);
  CHECK(data.compare(12, 4, "IHDR") == 0);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

ChildResult plot(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {"/bin/bash", kPlot};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_child(argv, "", 60, env);
}

size_t lines_of(const std::string& s) {
  return split_lines(s).size();
}

}  // namespace

TEST_CASE("plot.sh renders losses, throughput and versions from the learner's metrics.csv") {
  const TempDir scratch("plot");
  const std::string& run = scratch.path();
  write_metrics(run, 40);
  // Idle intervals are written with empty loss fields, not zeros.
  CHECK_THAT(read_file(run + "/metrics.csv"), Catch::Contains(",50,,,,1000,"));
  // A learner killed mid-row leaves a torn last line: it is skipped, not fatal.
  std::ofstream(run + "/metrics.csv", std::ios::app) << "1800000400.000,2050,1.2";
  const auto r = plot({"--run-dir", run});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  for (const char* name : {"losses.png", "throughput.png", "versions.png"})
    check_png(run + "/plots/" + name);
  // No evaluator ran: the evaluation plots are skipped with a note, not an error.
  CHECK_FALSE(exists(run + "/plots/accuracy.png"));
  CHECK_FALSE(exists(run + "/plots/winrate.png"));
  CHECK_THAT(r.err, Catch::Contains("no eval.csv"));
  CHECK(lines_of(r.err) == 1);
  // Only finished images: no temporary file is left behind.
  CHECK(lines_of(r.out) == 3);
}

TEST_CASE("plot.sh adds accuracy and win-rate plots when the run has an eval.csv") {
  const TempDir scratch("plot-eval");
  const std::string& run = scratch.path();
  write_metrics(run, 5);
  std::ofstream(run + "/eval.csv")
      << "time,step,weight_version,accuracy_policy,accuracy_mcts,winrate_vs_mcts200\n"
      << "1800000000,50,1,0.31,0.40,0.20\n"
      << "1800000020,150,11,0.35,,0.35\n"  // a skipped measurement is a gap
      << "1800000040,250,21,0.42,0.51,0.55\n";
  const auto r = plot({"--run-dir", run, "--out", run + "/pictures"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  for (const char* name :
       {"losses.png", "throughput.png", "versions.png", "accuracy.png", "winrate.png"})
    check_png(run + "/pictures/" + name);
  CHECK(r.err.empty());
}

TEST_CASE(
    "plot.sh: a missing run, missing or empty metrics and a missing gnuplot are one-line errors") {
  const TempDir scratch("plot-bad");
  const std::string& run = scratch.path();
  struct Case {
    std::string what, expect;
  };
  auto expect_error = [&](const std::vector<std::string>& args, const std::string& expect,
                          const std::vector<std::string>& env = {}) {
    const auto r = plot(args, env);
    INFO(r.out << r.err);
    CHECK(r.status != 0);
    CHECK_THAT(r.err, Catch::Contains(expect));
    CHECK(lines_of(r.err) == 1);
    CHECK(r.out.empty());
    CHECK_FALSE(exists(run + "/plots/losses.png"));
  };
  expect_error({"--run-dir", "/nonexistent/run"},
               "run directory '/nonexistent/run' does not exist");
  expect_error({"--run-dir", run}, "no metrics.csv in");
  std::ofstream(run + "/metrics.csv").close();
  expect_error({"--run-dir", run}, "is empty");
  { MetricsCsv header_only(run + "/metrics.csv"); }
  expect_error({"--run-dir", run}, "has no complete rows yet");
  std::ofstream(run + "/metrics.csv", std::ios::trunc) << "a,b,c\n1,2,3\n";
  expect_error({"--run-dir", run}, "not in the learner's format");
  std::remove((run + "/metrics.csv").c_str());
  write_metrics(run, 3);
  expect_error({"--run-dir", run}, "apt-get install gnuplot-nox",
               {"RZ_GNUPLOT=/nonexistent/gnuplot"});
  expect_error({"--run-dir", run, "--frobnicate"}, "unknown argument '--frobnicate'");
}
