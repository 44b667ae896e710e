// Helpers for the scale-out tests: a free loopback port, a private redis-server for unit tests,
// and the two hosts of a scale-out run (a learner host started with --serve and an actor host
// joined to it), each in its own run directory, cleaned up even when a test fails halfway.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "common/redis/redis_client.h"
#include "tests/launch/launch_test_util.h"

namespace rz::testing {

inline const std::string kIngest = RZ_BINARY_DIR "/learner/ringzero-ingest";

// A port nobody listens on right now (the kernel's choice for port 0).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A throwaway redis-server (no persistence) on a free loopback port, with a password.
class LocalRedis {
 public:
  explicit LocalRedis(const std::string& password) : port(free_port()), password(password) {
    pid = ::fork();
    if (pid == 0) {
      const int null_fd = ::open("/dev/null", O_WRONLY);
      ::dup2(null_fd, 1);
      ::dup2(null_fd, 2);
      const std::string p = std::to_string(port);
      ::execlp("redis-server", "redis-server", "--port", p.c_str(), "--bind", "127.0.0.1", "--save",
               "", "--appendonly", "no", "--requirepass", password.c_str(), nullptr);
      _exit(127);
    }
    eventually(
        [&] {
          try {
            redis::RedisClient c("127.0.0.1", port, password, 500);
            return true;
          } catch (const redis::RedisError&) {
            return false;
          }
        },
        std::chrono::seconds(10));
  }
  ~LocalRedis() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  redis::RedisClient client() const {
    return redis::RedisClient("127.0.0.1", port, password, 2000);
  }
  int port;
  std::string password;
  pid_t pid = 0;
};

// The learner host (dir/learn, --serve 127.0.0.1:PORT) and an actor host (dir/join).
class TwoHosts {
 public:
  TwoHosts() : port(free_port()) {
    char pattern[] = "/tmp/rz-scale-test-XXXXXX";
    base = ::mkdtemp(pattern);
    learn = base + "/learn host";  // a space: every path is quoted where it must be
    join = base + "/join";
    address = "127.0.0.1:" + std::to_string(port);
  }
  ~TwoHosts() { cleanup(); }

  CommandResult start_learner(const std::string& options) {
    return run_command(kLaunch + " start --detach --actors 1 --run-dir '" + learn + "' " + options +
                       " --eval.enabled false --serve " + address);
  }
  // Copies the learner host's secret (as a user would) and joins with it.
  CommandResult join_host(const std::string& extra = "") {
    secret_copy = base + "/secret.copy";
    std::filesystem::copy_file(learn + "/secret", secret_copy,
                               std::filesystem::copy_options::overwrite_existing);
    ::chmod(secret_copy.c_str(), 0600);
    return run_command(kLaunch + " join --detach --actors 1 --run-dir '" + join + "' --learner " +
                       address + " --secret-file " + secret_copy + " --host-id hostB " + extra);
  }
  Json snapshot(const std::string& dir) const {
    const CommandResult r = run_command(kMonitor + " --run-dir '" + dir + "' --once --json");
    if (r.code != 0) throw std::runtime_error("monitor failed: " + r.output);
    return parse_json(r.output);
  }
  pid_t pid_of(const std::string& dir, const std::string& role) const {
    return launch::read_pid_file(dir + "/pids/" + role + ".pid");
  }
  std::string log(const std::string& dir, const std::string& role) const {
    return read_file(dir + "/logs/" + role + ".log");
  }
  CommandResult stop(const std::string& dir) {
    return run_command(kLaunch + " stop --run-dir '" + dir + "' --timeout 60");
  }
  redis::RedisClient redis_client() const {
    return redis::RedisClient("127.0.0.1", port, read_file(learn + "/secret").substr(0, 64), 2000);
  }

  void cleanup() {
    if (base.empty()) return;
    for (const std::string& dir : {join, learn}) {
      if (launch::process_alive(pid_of(dir, "launch"), "ringzero-launch")) stop(dir);
      for (const char* role : {"launch", "learner", "actor-0", "relay", "ingest", "redis"}) {
        const pid_t pid = pid_of(dir, role);
        if (pid > 0 &&
            (launch::process_alive(pid, "ringzero-") || launch::process_alive(pid, "redis-server")))
          ::kill(pid, SIGKILL);
      }
      const std::string shm = launch::read_shm_name(launch::RunDir(dir));
      if (!shm.empty()) ::unlink(("/dev/shm" + shm).c_str());
    }
    std::error_code ec;
    std::filesystem::remove_all(base, ec);
    base.clear();
  }

  int port;
  std::string base, learn, join, address, secret_copy;
};

}  // namespace rz::testing
