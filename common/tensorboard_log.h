// TensorBoardLog: scalar curves in TensorBoard's own file format, so that a run can be
// watched with `tensorboard --logdir RUN/tensorboard` (docs/usage.md) beside the CSVs that the
// plot script reads. The learner writes RUN/tensorboard/learner/, the live evaluator
// RUN/tensorboard/eval/; the tags are the CSV column names (docs/usage.md lists them).
//
// File format (TensorFlow's TFRecord of Event protos, what TensorBoard's EventFileLoader
// reads): every record is
//   u64 length | u32 masked CRC32C(length) | data | u32 masked CRC32C(data)
// (little-endian; masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8), and the data is an
// Event proto {1: wall_time double, 2: step int64, 3: file_version "brain.Event:2" | 5:
// Summary {1: Value {1: tag, 2: simple_value float}} | 7: SessionLog {1: status, START = 1}}.
// The first record carries the file version; each write_scalars call is one Event holding all
// its values.
//
// One new file per process start (events.out.tfevents.<unix time>.<host>.<pid>.<n>): a restarted
// learner never appends to a file a killed one may have left with a torn last record, and
// TensorBoard merges all files of a directory by step. Each record goes out in one write(2)
// on an O_APPEND descriptor, so a SIGKILL leaves whole records (at worst the last one torn,
// which the reader drops). Directories are 0700 and files 0600: a run's data is private.
// Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rz {

class TensorBoardLog {
 public:
  // Creates RUN/tensorboard/<role>/ and a new event file in it. Throws std::runtime_error
  // (one line naming the path and the cause) when it cannot.
  TensorBoardLog(const std::string& run_dir, const std::string& role);
  ~TensorBoardLog();
  TensorBoardLog(const TensorBoardLog&) = delete;
  TensorBoardLog& operator=(const TensorBoardLog&) = delete;

  // Marks a process start at training step `step` (an Event with SessionLog START): a
  // restarted learner resumes from its checkpoint's step, and TensorBoard's Python reader
  // (EventAccumulator) drops the earlier files' points at or past it (the training they show
  // was lost with the weights), as it does for restarted TensorFlow jobs. The CSV keeps every
  // row.
  void start_session(int64_t step, double wall_time);

  // One event at `step` with every finite value of `scalars` (NaN: "not measured in this
  // interval"; +-inf Elo of a clean sweep cannot be drawn: both are left out, as the CSV
  // leaves NaN fields empty). A failed write (disk full) warns once on stderr and loses the
  // curve point, never training.
  void write_scalars(int64_t step, double wall_time,
                     const std::vector<std::pair<std::string, double>>& scalars);

  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& data);

  int fd_ = -1;
  std::string path_;
  bool warned_ = false;
};

// CRC-32C (Castagnoli), the checksum of TFRecord framing. Exposed for the tests.
uint32_t crc32c(const void* data, size_t size);

}  // namespace rz
