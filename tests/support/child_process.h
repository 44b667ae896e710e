// Child processes for tests: the real binaries started as the supervisor starts them
// (fork/exec, output into a log file), or driven as a person or a script drives them (input
// on stdin, stdout and stderr captured), waited for with a deadline and never left behind.
//
// Why one fork/exec helper, built this way: tests run children from several threads at
// once (run_parallel, producer threads), and after fork() in a threaded process the child
// may only make async-signal-safe calls until it execs: a malloc there can deadlock on a
// lock another thread held at the fork. So start_child builds argv, the environment and the
// resolved program path BEFORE fork, and the child only calls dup2, signal, setrlimit,
// execve, write and _exit.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace rz::testing {

// What a child gets besides its argv.
struct ChildSetup {
  std::vector<std::string> env;  // "NAME=value", taking precedence over this process's
  int stdin_fd = -1;             // -1: inherited
  int stdout_fd = -1;
  int stderr_fd = -1;
  // RLIMIT_FSIZE soft limit, with SIGXFSZ ignored: a write past it fails with EFBIG, as on a
  // full disk, for this child only (the hard limit stays, so a test can raise it again).
  rlim_t fsize_limit = RLIM_INFINITY;
};

// argv[0] as execve needs it: a name without '/' is looked up in PATH (as execvp would, but
// before fork).
inline std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;  // execve fails: the child says so and exits 127
}

// fork/exec argv with `setup`, SIGPIPE at its default action (as the supervisor,
// launch/child_process.cc, starts every role). Returns the pid; the caller reaps it.
inline pid_t start_child(const std::vector<std::string>& argv, const ChildSetup& setup = {}) {
  if (argv.empty()) throw std::invalid_argument("start_child: empty argv");
  const std::string program = resolve_program(argv[0]);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings(setup.env);
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    bool overridden = false;
    for (const auto& x : setup.env)
      overridden |= entry.compare(0, x.find('=') + 1, x, 0, x.find('=') + 1) == 0;
    if (!overridden) env_strings.push_back(entry);
  }
  for (auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  rlimit fsize{};
  ::getrlimit(RLIMIT_FSIZE, &fsize);
  fsize.rlim_cur = setup.fsize_limit;
  static const char kExecFailed[] = "execve failed\n";

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // dup2 clears O_CLOEXEC on 0-2; every other descriptor opened with it closes at exec.
    if (setup.stdin_fd >= 0) ::dup2(setup.stdin_fd, 0);
    if (setup.stdout_fd >= 0) ::dup2(setup.stdout_fd, 1);
    if (setup.stderr_fd >= 0) ::dup2(setup.stderr_fd, 2);
    ::signal(SIGPIPE, SIG_DFL);
    if (setup.fsize_limit != RLIM_INFINITY) {
      ::signal(SIGXFSZ, SIG_IGN);
      if (::setrlimit(RLIMIT_FSIZE, &fsize) != 0) ::_exit(126);
    }
    ::execve(program.c_str(), args.data(), envp.data());
    ssize_t ignored = ::write(2, kExecFailed, sizeof kExecFailed - 1);
    (void)ignored;
    ::_exit(127);
  }
  return pid;
}

// `path` opened for appending (created 0600) with O_CLOEXEC, for a child's output.
inline int open_log(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot open " + path + " for a child's output");
  return fd;
}

// fork/exec `argv` with stdout and stderr appended to the file `log`, as the supervisor runs
// a role. Returns the child's pid.
inline pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  const int fd = open_log(log);
  ChildSetup setup;
  setup.stdout_fd = setup.stderr_fd = fd;
  const pid_t pid = start_child(argv, setup);
  ::close(fd);
  return pid;
}

// Waits for `pid` to exit within `timeout`; returns its exit status (or -signal), or -1000
// on timeout (the child is then killed and reaped, so no test leaves a process behind).
inline int wait_exit(pid_t pid, std::chrono::duration<double> timeout) {
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
  while (std::chrono::steady_clock::now() < end) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return -1000;
}

// SIGKILLs and reaps a child still running when a test ends early (a failed REQUIRE), so no
// process outlives its test. Holds a pointer: the test may start a new child in `*pid`.
struct KillOnExit {
  pid_t* pid;
  ~KillOnExit() {
    if (*pid > 0 && ::waitpid(*pid, nullptr, WNOHANG) == 0) {
      ::kill(*pid, SIGKILL);
      ::waitpid(*pid, nullptr, 0);
    }
  }
};

struct ChildResult {
  int status = -1;  // exit code, -signal, or -1000 if killed after the time limit
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs argv[0] with extra environment `env`; writes `input` to its stdin and closes it
// (EOF), collects both outputs until it exits. Kills it after `seconds`.
inline ChildResult run_child(const std::vector<std::string>& argv, const std::string& input,
                             double seconds = 60, const std::vector<std::string>& env = {}) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC))
    throw std::runtime_error("pipe failed");
  ChildSetup setup;
  setup.env = env;
  setup.stdin_fd = in[0];
  setup.stdout_fd = out[1];
  setup.stderr_fd = err[1];
  const pid_t pid = start_child(argv, setup);
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

struct CommandResult {
  int code = -1;       // exit code, -1 if it did not exit normally
  std::string output;  // stdout and stderr
};

// A shell command line as a user types it (quoting, redirections, VAR=value prefixes), with
// stdout and stderr together, through popen (which does not fork this process itself).
inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace rz::testing
