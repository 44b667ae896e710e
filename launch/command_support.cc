#include "launch/command_support.h"

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "common/file_lock.h"
#include "common/run_config.h"
#include "launch/process_liveness.h"

namespace rz::launch {

namespace fs = std::filesystem;

std::string script() {
  const char* s = std::getenv("RZ_LAUNCH_SCRIPT");
  return s && *s ? s : "ringzero-launch";
}

namespace {

std::string self_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

}  // namespace

std::string child_binary(const char* env, const std::string& relative) {
  const char* override_path = std::getenv(env);
  std::string path = override_path && *override_path
                         ? std::string(override_path)
                         : (fs::path(self_dir()) / relative).lexically_normal().string();
  if (::access(path.c_str(), X_OK) != 0) {
    throw UsageError(
        fmt::format("{} is missing or not executable; build it with launch/setup.sh "
                    "(or set {})",
                    path, env));
  }
  return path;
}

int parse_actor_count(const std::string& text) {
  const bool digits = !text.empty() && text.size() <= 4 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
  const int n = digits ? std::stoi(text) : -1;
  if (n < 0 || n > kMaxActors) {
    throw UsageError(
        fmt::format("--actors must be a whole number from 0 to {} (0 = cores - 1), not '{}'",
                    kMaxActors, text));
  }
  return n;
}

std::string new_run_dir_name(const char* pattern) {
  std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  char name[64];
  std::strftime(name, sizeof name, pattern, &parts);
  return name;
}

bool supervisor_alive(const RunDir& dir, pid_t* pid) {
  return FileLock::held(dir.lock_file(), pid);
}

std::string shm_name_of(const RunDir& dir) {
  const std::string name = read_shm_name(dir);
  if (name.empty()) {
    throw UsageError(
        fmt::format("no run in {} ({} is missing); start one with: {} start --run-dir {}",
                    dir.path(), dir.shm_name_file(), script(), shell_quote(dir.path())));
  }
  return name;
}

bool wait_until(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

void print_next_steps(const RunDir& dir, std::FILE* out) {
  fmt::print(out,
             "  watch:   {0} monitor --run-dir {1}\n"
             "  status:  {0} status --run-dir {1}\n"
             "  restart the learner from its checkpoint: {0} restart-learner --run-dir {1}\n"
             "  stop:    {0} stop --run-dir {1}\n"
             "  logs:    {1}/logs/\n",
             script(), shell_quote(dir.path()));
}

void require_run(const RunDir& dir) {
  if (std::filesystem::exists(dir.config_file())) {
    dir.check_private();  // a UserError naming the fix
    return;
  }
  throw UsageError(
      fmt::format("there is no run in {} ({}); start one with: {} start --run-dir {}", dir.path(),
                  dir.exists() ? "no config.ini in it" : "the directory does not exist", script(),
                  shell_quote(dir.path())));
}

}  // namespace rz::launch
