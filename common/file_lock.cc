#include "common/file_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace rz {

namespace {

flock whole_file(short type) {
  flock l{};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  l.l_start = 0;
  l.l_len = 0;
  l.l_pid = 0;  // must be 0 for OFD locks
  return l;
}

pid_t recorded_pid(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  if (n <= 0) return 0;
  const long pid = std::strtol(text, nullptr, 10);
  return pid > 0 && pid < (1L << 30) ? static_cast<pid_t>(pid) : 0;
}

}  // namespace

std::unique_ptr<FileLock> FileLock::try_acquire(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::runtime_error(
        fmt::format("cannot open the lock file {}: {}", path, std::strerror(errno)));
  flock l = whole_file(F_WRLCK);
  if (::fcntl(fd, F_OFD_SETLK, &l) == 0) return std::unique_ptr<FileLock>(new FileLock(fd));
  const int err = errno;
  ::close(fd);
  if (err == EAGAIN || err == EACCES) return nullptr;
  throw std::runtime_error(fmt::format("cannot lock {}: {}", path, std::strerror(err)));
}

std::unique_ptr<FileLock> FileLock::acquire(const std::string& path,
                                            std::chrono::milliseconds timeout,
                                            const std::function<void(pid_t)>& waiting) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool told = false;
  while (true) {
    if (auto lock = try_acquire(path)) return lock;
    if (!told && waiting) {
      pid_t pid = 0;
      held(path, &pid);
      waiting(pid);
      told = true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return nullptr;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::unique_ptr<FileLock> FileLock::acquire_for_role(
    const std::string& path, std::chrono::seconds timeout, const std::string& role,
    const std::string& what, const std::string& run_dir,
    const std::function<void(const std::string&)>& say) {
  auto lock = acquire(path, timeout, [&](pid_t holder) {
    say(fmt::format("waiting up to {} s for the previous {} (pid {}) to finish with {}",
                    timeout.count(), role, holder, what));
  });
  if (!lock) {
    pid_t holder = 0;
    held(path, &holder);
    throw std::runtime_error(fmt::format(
        "another {} (pid {}) still holds {} after {} s: stop it (kill {}) or stop the run with "
        "launch.sh stop --run-dir {}, then start again",
        role, holder, path, timeout.count(), holder, run_dir));
  }
  lock->record_pid(::getpid());
  return lock;
}

bool FileLock::held(const std::string& path, pid_t* pid) {
  if (pid) *pid = 0;
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  flock l = whole_file(F_WRLCK);
  const bool locked = ::fcntl(fd, F_OFD_GETLK, &l) == 0 && l.l_type != F_UNLCK;
  if (locked && pid) *pid = recorded_pid(fd);
  ::close(fd);
  return locked;
}

FileLock::~FileLock() {
  ::close(fd_);
}

void FileLock::record_pid(pid_t pid) {
  const std::string text = fmt::format("{}\n", pid);
  if (::ftruncate(fd_, 0) != 0 ||
      ::pwrite(fd_, text.data(), text.size(), 0) != ssize_t(text.size()))
    throw std::runtime_error(
        fmt::format("cannot record pid {} in a lock file: {}", pid, std::strerror(errno)));
}

}  // namespace rz
