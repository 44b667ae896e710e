#include "launch/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "common/durable_file.h"
#include "launch/log_stamp.h"

namespace rz::launch {

namespace {

// Only async-signal-safe calls between fork and exec: the child of a fork owns a copy of
// the parent's heap but nothing allocated here may be relied on.
[[noreturn]] void exec_in_child(pid_t parent, int out_fd, char* const* argv) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) _exit(1);  // the supervisor died before prctl took effect
  ::setpgid(0, 0);

  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGINT, SIGTERM, SIGCHLD, SIGUSR1, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);

  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(out_fd, STDERR_FILENO);
  // Every other descriptor of the supervisor is O_CLOEXEC, so exec closes them.

  ::execv(argv[0], argv);
  const char* what = std::strerror(errno);
  const char* parts[] = {"cannot run ", argv[0], ": ", what, "\n"};
  for (const char* p : parts) {
    if (::write(STDERR_FILENO, p, std::strlen(p)) < 0) break;
  }
  _exit(127);
}

}  // namespace

SpawnedChild spawn_child(const std::vector<std::string>& argv) {
  if (argv.empty()) throw std::runtime_error("spawn_child: empty command line");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(fmt::format("cannot fork: {}", std::strerror(err)));
  }
  if (pid == 0) exec_in_child(parent, fds[1], args.data());
  ::close(fds[1]);
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  return SpawnedChild{pid, fds[0]};
}

void append_to_fd(int fd, const std::string& text) {
  if (fd < 0) return;
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

LogPump::LogPump(std::string role, int pipe_fd, const std::string& log_path)
    : role_(std::move(role)), pipe_fd_(pipe_fd) {
  log_fd_ = open_for_append(log_path);
}

LogPump::~LogPump() {
  close_all();
}

LogPump::LogPump(LogPump&& other) noexcept {
  *this = std::move(other);
}

LogPump& LogPump::operator=(LogPump&& other) noexcept {
  if (this != &other) {
    close_all();
    role_ = std::move(other.role_);
    pipe_fd_ = other.pipe_fd_;
    log_fd_ = other.log_fd_;
    partial_ = std::move(other.partial_);
    last_line_ = std::move(other.last_line_);
    other.pipe_fd_ = -1;
    other.log_fd_ = -1;
  }
  return *this;
}

void LogPump::close_all() {
  if (!partial_.empty()) write_line(partial_);
  partial_.clear();
  if (pipe_fd_ >= 0) ::close(pipe_fd_);
  if (log_fd_ >= 0) ::close(log_fd_);
  pipe_fd_ = log_fd_ = -1;
}

void LogPump::write_line(const std::string& text) {
  if (text.find_first_not_of(" \t\r") != std::string::npos) last_line_ = text;
  append_to_fd(log_fd_, stamp_line(role_, text));
}

std::string LogPump::last_line() const {
  std::string line =
      partial_.find_first_not_of(" \t\r") != std::string::npos ? partial_ : last_line_;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

void LogPump::pump() {
  if (pipe_fd_ < 0) return;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(pipe_fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {  // EOF (every writer exited) or an error: this incarnation is done
      close_all();
      return;
    }
    partial_.append(buffer, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
      write_line(partial_.substr(start, nl - start));
    }
    partial_.erase(0, start);
    // A child printing megabytes without a newline must not grow our memory without bound.
    if (partial_.size() > 65536) {
      write_line(partial_);
      partial_.clear();
    }
  }
}

}  // namespace rz::launch
