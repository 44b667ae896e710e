// MetricsCsv: RUN/metrics.csv, one row per metrics interval, appended across restarts.
//
// The header line is written only when the file is new or empty, so a restarted learner
// continues the same table. Each row is written with one write(2) on an O_APPEND descriptor:
// a learner killed mid-run leaves whole rows (a row is far below PIPE_BUF-sized writes that
// the kernel applies atomically to regular files in practice) and readers skip any line that
// does not have the header's column count.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rz {

struct MetricsRow {
  double time = 0;  // seconds since the epoch (CLOCK_REALTIME)
  uint64_t step = 0;
  // Means over the interval; NaN when no step was trained in it (written as empty fields,
  // so plots show a gap instead of a fall to zero).
  double loss_total = 0, loss_policy = 0, loss_value = 0;
  uint64_t replay_positions = 0;  // positions in the replay window
  double new_positions_per_s = 0;
  double samples_per_s = 0;  // samples trained per second
  uint64_t weight_version = 0;
  double mean_version_lag = 0;      // published version minus the record's weight version
  uint64_t records_consumed = 0;    // cumulative, this run
  uint64_t bad_records = 0;         // cumulative, this run
  double samples_per_position = 0;  // achieved ratio over the interval (limiter target: R)
  double samples_behind = 0;        // > 0: the learner cannot keep up with the actors
};

// The row's measurements as (CSV column name, value) pairs, every column but time and step:
// the TensorBoard curves (common/tensorboard_log.h) carry the CSV's names and numbers.
std::vector<std::pair<std::string, double>> metrics_scalars(const MetricsRow& row);

class MetricsCsv {
 public:
  // Opens (creates) `path` for appending; throws std::runtime_error naming the path.
  explicit MetricsCsv(const std::string& path);
  ~MetricsCsv();
  MetricsCsv(const MetricsCsv&) = delete;
  MetricsCsv& operator=(const MetricsCsv&) = delete;

  void append(const MetricsRow& row);

  static const char* header();

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace rz
