// Helpers for the scale-out tests: a private redis-server for unit tests,
// and the two hosts of a scale-out run (a learner host started with --serve and an actor host
// joined to it), each in its own run directory, cleaned up even when a test fails halfway.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "common/redis/redis_client.h"
#include "tests/launch/launch_test_util.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace rz::testing {

inline const std::string kIngest = RZ_BINARY_DIR "/learner/ringzero-ingest";

// A throwaway redis-server (no persistence) on a free loopback port, with a password.
class LocalRedis {
 public:
  explicit LocalRedis(const std::string& password)
      : port(redis::free_loopback_port()), password(password) {
    ChildSetup quiet;
    quiet.stdout_fd = quiet.stderr_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    pid = start_child({"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1",
                       "--save", "", "--appendonly", "no", "--requirepass", password},
                      quiet);
    ::close(quiet.stdout_fd);
    wait_until(
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
  TwoHosts() : port(redis::free_loopback_port()) {
    base = make_temp_dir("scale-test");
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
