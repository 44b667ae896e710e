#include "common/tensorboard_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "common/protobuf_writer.h"

namespace rz {
namespace {

std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

uint32_t masked_crc(const void* data, size_t size) {
  const uint32_t c = crc32c(data, size);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

void make_private_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    throw std::runtime_error(
        fmt::format("cannot create TensorBoard directory '{}': {}: make the "
                    "run directory writable",
                    path, std::strerror(errno)));
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string s(buf);
  for (char& c : s)
    if (c == '/') c = '_';
  return s;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  static const std::array<uint32_t, 256> table = make_crc32c_table();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

TensorBoardLog::TensorBoardLog(const std::string& run_dir, const std::string& role) {
  const std::string base = run_dir + "/tensorboard";
  make_private_dir(base);
  const std::string dir = base + "/" + role;
  make_private_dir(dir);
  const double now = std::time(nullptr);
  static std::atomic<int> logs_opened{0};  // a second log of one process, in the same second
  path_ = fmt::format("{}/events.out.tfevents.{:.0f}.{}.{}.{}", dir, now, host_name(), ::getpid(),
                      logs_opened++);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw std::runtime_error(
        fmt::format("cannot create TensorBoard event file '{}': {}", path_, std::strerror(errno)));
  ProtoWriter event;
  event.double_field(1, now).varint(2, 0).bytes(3, "brain.Event:2");
  write_record(event.data());
}

TensorBoardLog::~TensorBoardLog() {
  if (fd_ >= 0) ::close(fd_);
}

void TensorBoardLog::start_session(int64_t step, double wall_time) {
  ProtoWriter session_log;
  session_log.varint(1, 1);  // SessionLog.START
  ProtoWriter event;
  event.double_field(1, wall_time).varint(2, step).message(7, session_log);
  write_record(event.data());
}

void TensorBoardLog::write_scalars(int64_t step, double wall_time,
                                   const std::vector<std::pair<std::string, double>>& scalars) {
  ProtoWriter summary;
  for (const auto& [tag, value] : scalars) {
    if (!std::isfinite(value)) continue;
    ProtoWriter v;
    v.bytes(1, tag).float_field(2, static_cast<float>(value));
    summary.message(1, v);
  }
  if (summary.size() == 0) return;
  ProtoWriter event;
  event.double_field(1, wall_time).varint(2, step).message(5, summary);
  write_record(event.data());
}

void TensorBoardLog::write_record(const std::string& data) {
  const uint64_t length = data.size();
  std::string record(reinterpret_cast<const char*>(&length), 8);
  const uint32_t length_crc = masked_crc(&length, 8);
  record.append(reinterpret_cast<const char*>(&length_crc), 4);
  record += data;
  const uint32_t data_crc = masked_crc(data.data(), data.size());
  record.append(reinterpret_cast<const char*>(&data_crc), 4);
  // One write: a killed writer leaves whole records (at worst a torn last one).
  const ssize_t n = ::write(fd_, record.data(), record.size());
  if (n != static_cast<ssize_t>(record.size()) && !warned_) {
    // fprintf: an unwritable stderr must not throw from here.
    std::fprintf(stderr, "warning: cannot append to %s: %s (TensorBoard curve points lost)\n",
                 path_.c_str(), n < 0 ? std::strerror(errno) : "short write");
    warned_ = true;
  }
}

}  // namespace rz
