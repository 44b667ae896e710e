// Runs a real binary as a child process with `input` piped into its stdin and its stdout and
// stderr captured, the way a person (or a script) drives ringzero-play and plot.sh.
// Header-only; used by the tests in this folder.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace rz::testing {

struct ChildResult {
  int status = -1;  // exit code, -signal, or -1000 if killed after the time limit
  std::string out;  // stdout
  std::string err;  // stderr
};

// fork/exec argv[0] (a path) with extra environment `env` ("NAME=value", taking precedence
// over this process's); writes `input` to its stdin and closes it (EOF), collects both
// outputs until it exits. Kills it after `seconds`.
inline ChildResult run_child(const std::vector<std::string>& argv, const std::string& input,
                             double seconds = 60, const std::vector<std::string>& env = {}) {
  // Everything the child needs is built before fork(): tests run children from several
  // threads at once, and after fork() in a threaded process only async-signal-safe calls
  // (dup2, close, execve, write, _exit) are allowed.
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings(env);
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    bool overridden = false;
    for (const auto& x : env)
      overridden |= entry.compare(0, x.find('=') + 1, x, 0, x.find('=') + 1) == 0;
    if (!overridden) env_strings.push_back(entry);
  }
  for (auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  static const char kExecFailed[] = "execve failed\n";

  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC))
    throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // dup2 clears O_CLOEXEC on 0-2; every other pipe end (ours and other threads') closes
    // at exec.
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execve(args[0], args.data(), envp.data());
    ssize_t ignored = ::write(2, kExecFailed, sizeof kExecFailed - 1);
    (void)ignored;
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  // Our inputs are far below the pipe's capacity, so this write never waits for the child.
  // A child that exits without reading gives EPIPE; ignore SIGPIPE for that.
  ::signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  while (written < input.size()) {
    const ssize_t n = ::write(in[1], input.data() + written, input.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  ::close(in[1]);

  ChildResult r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  bool killed = false;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left)) <= 0) continue;
    for (auto& f : fds) {
      if (f.fd < 0 || !(f.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      const ssize_t n = ::read(f.fd, buf, sizeof buf);
      if (n > 0) {
        (&f == &fds[0] ? r.out : r.err).append(buf, static_cast<size_t>(n));
      } else {
        ::close(f.fd);
        f.fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = killed ? -1000 : WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return r;
}

// Runs independent children at once (each starts LibTorch-linked binaries in ~0.5 s of
// mostly waiting): results in the order given.
inline std::vector<ChildResult> run_parallel(
    const std::vector<std::function<ChildResult()>>& jobs) {
  std::vector<std::future<ChildResult>> running;
  for (const auto& job : jobs) running.push_back(std::async(std::launch::async, job));
  std::vector<ChildResult> results;
  for (auto& r : running) results.push_back(r.get());
  return results;
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

inline bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// A fresh directory /tmp/rz-<tag>-XXXXXX, removed with everything in it on destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    std::string tmpl = "/tmp/rz-" + tag + "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace rz::testing
