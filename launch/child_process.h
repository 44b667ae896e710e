// Starting a child process the way the supervisor needs it, and carrying its output into its
// log file with every line stamped.
//
// spawn_child() is fork + exec with three guarantees:
//   - the child cannot outlive the supervisor: PR_SET_PDEATHSIG(SIGTERM) before exec, then a
//     getppid() re-check (the supervisor may have died between fork and prctl);
//   - the child is in its own process group, so a Ctrl-C on the terminal reaches only the
//     supervisor, which then stops the run in order (the learner's final checkpoint first);
//   - the child starts with default signal dispositions and an empty signal mask (the
//     supervisor blocks the signals it reads through a signalfd, and masks are inherited).
// The child's stdout and stderr go into one pipe the supervisor reads (LogPump).
//
// The supervisor is single-threaded on purpose: fork is only safe then, and
// PR_SET_PDEATHSIG fires when the parent THREAD dies.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace rz::launch {

struct SpawnedChild {
  pid_t pid = -1;
  int output_fd = -1;  // read end of the child's stdout+stderr pipe (non-blocking, CLOEXEC)
};

// Throws std::runtime_error if the pipe or fork fails. An exec failure shows up as the child
// printing "cannot run <path>: <error>" and exiting with status 127.
SpawnedChild spawn_child(const std::vector<std::string>& argv);

// Reads one child's output pipe and appends it, line by line, to a log file as
// "<UTC time> <role>: <line>". One LogPump per child incarnation; the log file is shared by
// all incarnations of a role (opened O_APPEND).
class LogPump {
 public:
  LogPump() = default;
  LogPump(std::string role, int pipe_fd, const std::string& log_path);
  ~LogPump();
  LogPump(LogPump&& other) noexcept;
  LogPump& operator=(LogPump&& other) noexcept;
  LogPump(const LogPump&) = delete;
  LogPump& operator=(const LogPump&) = delete;

  int fd() const { return pipe_fd_; }
  bool open() const { return pipe_fd_ >= 0; }
  // Reads what is available without blocking. On EOF flushes a partial last line and
  // closes the pipe (open() becomes false).
  void pump();
  // The last non-empty line this incarnation printed (a partial one included): what a
  // failing child said last, usually its one-line error.
  std::string last_line() const;

 private:
  void write_line(const std::string& text);
  void close_all();
  std::string role_;
  int pipe_fd_ = -1;
  int log_fd_ = -1;
  std::string partial_;
  std::string last_line_;
};

// Appends an already formatted text to a file opened O_APPEND (one write() per call, so
// lines from different writers never interleave mid-line). Errors are ignored: a full disk
// must not take down the supervisor.
void append_to_fd(int fd, const std::string& text);

}  // namespace rz::launch
