#include "common/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include <fmt/format.h>

namespace rz {

namespace {

[[noreturn]] void fail(const std::string& path, const char* step, int err) {
  throw DurableWriteError(
      fmt::format("cannot write {}: {} failed: {}", path, step, std::strerror(err)));
}

uint64_t random_word() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^ (uint64_t(::getpid()) << 32)};
  return rng();
}

}  // namespace

void write_file_durably(const std::string& path, const void* data, size_t size) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty()) fail(path, "naming the file", EISDIR);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0) fail(path, "opening its directory", errno);
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    tmp = fmt::format("{}.tmp.{}.{:016x}", name, ::getpid(), random_word());
    fd = ::openat(dfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    const int err = errno;
    ::close(dfd);
    fail(path, "creating a temporary file", err);
  }
  auto give_up = [&](const char* step, int err) {
    if (fd >= 0) ::close(fd);
    ::unlinkat(dfd, tmp.c_str(), 0);
    ::close(dfd);
    fail(path, step, err);
  };
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t done = 0; done < size;) {
    const ssize_t n = ::write(fd, p + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) give_up("write", n < 0 ? errno : ENOSPC);
    done += static_cast<size_t>(n);
  }
  // fsync before rename: otherwise a crash could leave the real name on a file whose data
  // never reached the disk.
  if (::fsync(fd) != 0) give_up("fsync", errno);
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) give_up("close", errno);
  if (::renameat(dfd, tmp.c_str(), dfd, name.c_str()) != 0) give_up("rename", errno);
  // The rename is durable only once the directory is. EINVAL: a filesystem that cannot
  // sync directories (nothing more to be had there).
  if (::fsync(dfd) != 0 && errno != EINVAL) {
    const int err = errno;
    ::close(dfd);
    fail(path, "fsync of its directory", err);
  }
  ::close(dfd);
}

int open_for_append(const std::string& path, bool readable) {
  return ::open(path.c_str(),
                (readable ? O_RDWR : O_WRONLY) | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
}

bool is_durable_temporary(const std::string& name, const std::string& suffix, long own_pid) {
  const std::string marker = suffix + ".tmp.";
  const size_t at = name.find(marker);
  if (at == std::string::npos) return false;
  const std::string rest = name.substr(at + marker.size());  // "<pid>.<hex>" or "<pid>"
  const std::string pid = rest.substr(0, rest.find('.'));
  return pid != std::to_string(own_pid);
}

}  // namespace rz
