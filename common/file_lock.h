// FileLock: "is this run (or this run's learner) alive?" answered by the kernel, not by a
// pid file. The holder keeps an exclusive open-file-description lock (fcntl F_OFD_SETLK) on
// a small file for its whole life; the kernel drops it the instant the holder dies, however
// it dies. Anyone can test it without taking it (F_OFD_GETLK), so a `status` never makes a
// concurrent `start` fail. The holder writes its pid into the file: a pid read from a file
// whose lock is held names a live process (it cannot have been reused), so it is safe to
// signal; a pid file without a held lock proves nothing.
//
// OFD locks belong to the open file description: they survive fork (a detached supervisor
// inherits the lock its parent took, with no gap) and are not dropped when some other fd of
// the same file is closed. The fd is O_CLOEXEC, so exec'd children never hold it.
//
// Used for RUN/lock (the supervisor: one run per directory) and RUN/checkpoints/lock (the
// learner: one writer of a run's checkpoints at a time).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace rz {

class FileLock {
 public:
  // Takes the lock without waiting; nullptr if another open file description holds it.
  // Creates the file (mode 0600, never through a symlink). Throws std::runtime_error naming
  // the path on any other failure.
  static std::unique_ptr<FileLock> try_acquire(const std::string& path);
  // Waits up to `timeout` (polling every 50 ms; `waiting(holder_pid)` is called once, when
  // the first attempt fails). nullptr if still held by then.
  static std::unique_ptr<FileLock> acquire(const std::string& path,
                                           std::chrono::milliseconds timeout,
                                           const std::function<void(pid_t)>& waiting = {});
  // A role's lock on a file of its run (one learner writes the checkpoints, one ingest uses
  // its dedup table): a predecessor left by a SIGKILLed supervisor may still be finishing
  // when `start --resume` starts the next one. Waits for it up to `timeout`, saying so once
  // through `say` ("waiting up to T s for the previous <role> (pid P) to finish with <what>");
  // still held then, throws std::runtime_error in one line that names the holder and the fix.
  // Records our pid in the file.
  static std::unique_ptr<FileLock> acquire_for_role(
      const std::string& path, std::chrono::seconds timeout, const std::string& role,
      const std::string& what, const std::string& run_dir,
      const std::function<void(const std::string&)>& say);
  // True if a live process holds the lock on `path`; *pid gets the pid its holder recorded
  // (0 if none yet). A missing file is not held.
  static bool held(const std::string& path, pid_t* pid = nullptr);

  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // Records `pid` (normally getpid() of the process that will hold the lock) in the file.
  void record_pid(pid_t pid);
  int fd() const { return fd_; }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace rz
