#include "launch/scale_setup.h"

#include "common/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "common/redis/scale_protocol.h"
#include "launch/command_support.h"

namespace rz::launch {

namespace fs = std::filesystem;

namespace {
// A value in redis.conf: double-quoted with backslash escapes (run directories may hold spaces).
std::string conf_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
}  // namespace

void prepare_serve(RunConfig* config, const RunDir& dir) {
  std::string host;
  int port = 0;
  try {
    redis::parse_address(config->scale.serve, &host, &port);
  } catch (const std::invalid_argument& e) {
    throw UsageError(fmt::format("--serve {}", e.what()));
  }
  if (config->scale.secret_file.empty()) {
    const std::string path = dir.path() + "/secret";
    if (!fs::exists(path)) {
      fs::create_directories(dir.path());
      redis::generate_secret_file(path);
    }
    config->scale.secret_file = path;
  } else {
    config->scale.secret_file = fs::absolute(config->scale.secret_file).lexically_normal().string();
  }
  try {
    redis::read_secret_file(config->scale.secret_file);
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
  redis_server_binary();  // refuse now, not when the supervisor spawns it
}

std::string redis_server_binary() {
  if (const char* env = std::getenv("RZ_REDIS_SERVER"); env && *env) return env;
  if (const char* path = std::getenv("PATH")) {
    std::istringstream dirs(path);
    std::string d;
    while (std::getline(dirs, d, ':')) {
      const std::string candidate = (d.empty() ? "." : d) + "/redis-server";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  for (const char* c : {"/usr/bin/redis-server", "/usr/sbin/redis-server"})
    if (::access(c, X_OK) == 0) return c;
  throw UsageError(
      "--serve needs redis-server, which is not installed: apt-get install "
      "redis-server (launch/setup.sh installs it), or set RZ_REDIS_SERVER");
}

std::string write_redis_config(const RunConfig& config, const RunDir& dir, uint64_t weight_bytes) {
  std::string host;
  int port = 0;
  redis::parse_address(config.scale.serve, &host, &port);
  const std::string data_dir = dir.path() + "/redis";
  fs::create_directories(data_dir);
  ::chmod(data_dir.c_str(), 0700);
  const std::string secret = redis::read_secret_file(config.scale.secret_file);
  const uint64_t bulk = std::max<uint64_t>(
      std::max(config.shm.max_record_bytes, weight_bytes) + (1u << 20), 1u << 20);
  std::string text = fmt::format(
      "# written by ringzero-launch at every start (docs/scale-out.md); edits are overwritten\n"
      "bind {}\nport {}\nprotected-mode yes\nrequirepass {}\n"
      "appendonly yes\nappendfsync always\nappenddirname \"appendonly\"\naof-load-truncated yes\n"
      "dir {}\nsave \"\"\ndaemonize no\nsupervised no\nlogfile \"\"\n"
      "proto-max-bulk-len {}\nmaxclients 1000\n"
      "enable-debug-command no\nenable-module-command no\n",
      host, port, conf_quote(secret), conf_quote(data_dir), bulk);
  const std::string path = data_dir + "/redis.conf";
  write_file_durably(path, text);
  return path;
}

std::string random_hex(int bytes) {
  std::string out;
  const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  for (int i = 0; i < bytes; ++i) {
    unsigned char c = 0;
    if (fd < 0 || ::read(fd, &c, 1) != 1) c = static_cast<unsigned char>(std::rand());
    out += fmt::format("{:02x}", c);
  }
  if (fd >= 0) ::close(fd);
  return out;
}

}  // namespace rz::launch
