#include "learner/metrics_csv.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "common/durable_file.h"

namespace rz {

const char* MetricsCsv::header() {
  return "time,step,loss_total,loss_policy,loss_value,replay_positions,new_positions_per_s,"
         "samples_per_s,weight_version,mean_version_lag,records_consumed,bad_records,"
         "samples_per_position,samples_behind\n";
}

std::vector<std::pair<std::string, double>> metrics_scalars(const MetricsRow& r) {
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  return {{"loss_total", r.loss_total},
          {"loss_policy", r.loss_policy},
          {"loss_value", r.loss_value},
          {"replay_positions", d(r.replay_positions)},
          {"new_positions_per_s", r.new_positions_per_s},
          {"samples_per_s", r.samples_per_s},
          {"weight_version", d(r.weight_version)},
          {"mean_version_lag", r.mean_version_lag},
          {"records_consumed", d(r.records_consumed)},
          {"bad_records", d(r.bad_records)},
          {"samples_per_position", r.samples_per_position},
          {"samples_behind", r.samples_behind}};
}

MetricsCsv::MetricsCsv(const std::string& path) : path_(path) {
  fd_ = open_for_append(path);
  if (fd_ < 0)
    throw std::runtime_error("cannot open metrics file " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd_, &st) == 0 && st.st_size == 0) {
    const char* h = header();
    if (::write(fd_, h, std::strlen(h)) < 0)
      throw std::runtime_error("cannot write metrics file " + path + ": " + std::strerror(errno));
  }
}

MetricsCsv::~MetricsCsv() {
  if (fd_ >= 0) ::close(fd_);
}

void MetricsCsv::append(const MetricsRow& r) {
  auto loss = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:.6f}", v); };
  std::string line = fmt::format(
      "{:.3f},{},{},{},{},{},{:.2f},{:.2f},{},{:.3f},{},{},{:.3f},{:.0f}\n", r.time, r.step,
      loss(r.loss_total), loss(r.loss_policy), loss(r.loss_value), r.replay_positions,
      r.new_positions_per_s, r.samples_per_s, r.weight_version, r.mean_version_lag,
      r.records_consumed, r.bad_records, r.samples_per_position, r.samples_behind);
  // One write per row: a crash leaves whole rows. A failed write (disk full) loses a row of
  // metrics, not training, so it is not fatal.
  if (::write(fd_, line.data(), line.size()) < 0) {
    static bool warned = false;
    // fprintf, not fmt::print: an unwritable stderr (no reader) must not throw from here.
    if (!warned)
      std::fprintf(stderr, "warning: cannot append to %s: %s\n", path_.c_str(),
                   std::strerror(errno));
    warned = true;
  }
}

}  // namespace rz
