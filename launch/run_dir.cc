#include "launch/run_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "common/durable_file.h"
#include "common/error.h"

namespace rz::launch {

namespace fs = std::filesystem;

RunDir::RunDir(const std::string& path) {
  path_ = fs::absolute(fs::path(path)).lexically_normal().string();
  while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
}

bool RunDir::exists() const {
  return fs::is_directory(path_);
}

void RunDir::create_layout() const {
  std::error_code ec;
  fs::create_directories(fs::path(path_).parent_path(), ec);
  for (const std::string& d : {path_, pids_dir(), logs_dir(), checkpoints_dir()}) {
    if (!ec && ::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST)
      ec = std::error_code(errno, std::generic_category());
    if (ec) {
      throw UserError(fmt::format("cannot create directory {}: {} (choose a writable --run-dir)", d,
                                  ec.message()));
    }
  }
  check_private();
}

void RunDir::check_private() const {
  const std::vector<std::string> dirs = {path_, pids_dir(), logs_dir(), checkpoints_dir()};
  for (size_t i = 0; i < dirs.size(); ++i) {
    const std::string& d = dirs[i];
    struct stat st {};
    // RUN itself may be a symlink of the user's (runs/latest): judge what it points to.
    const int rc = i == 0 ? ::stat(d.c_str(), &st) : ::lstat(d.c_str(), &st);
    if (rc != 0) {
      if (errno == ENOENT && i > 0) continue;  // created later, by us, private
      throw UserError(fmt::format("cannot inspect run directory {}: {}", d, std::strerror(errno)));
    }
    std::string why;
    if (S_ISLNK(st.st_mode)) {
      why = "is a symbolic link";
    } else if (!S_ISDIR(st.st_mode)) {
      why = "is not a directory";
    } else if (st.st_uid != ::geteuid()) {
      why = fmt::format("is owned by uid {}, not by you (uid {})", st.st_uid, ::geteuid());
    } else if (st.st_mode & 022) {
      why = fmt::format("is writable by {} (mode {:04o})",
                        (st.st_mode & 020) && (st.st_mode & 002) ? "group and others"
                        : (st.st_mode & 020)                     ? "group"
                                                                 : "others",
                        st.st_mode & 07777);
    }
    if (!why.empty()) {
      throw UserError(fmt::format(
          "run directory {} {}: a run directory must be your own and private, since whoever "
          "can write there controls what the run writes and reads; use another --run-dir{}",
          d, why,
          S_ISDIR(st.st_mode) && st.st_uid == ::geteuid()
              ? fmt::format(", or make it private with chmod 700 {}", shell_quote(d))
              : ""));
    }
    // Nothing in it may be a symlink: whoever planted one chose what we would write to.
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(d, ec)) {
      if (entry.is_symlink(ec)) {
        throw UserError(fmt::format(
            "run directory {} holds a symbolic link {}: a run never writes through a link; "
            "remove it (rm {}) or use another --run-dir",
            d, entry.path().filename().string(), shell_quote(entry.path().string())));
      }
    }
  }
}

bool read_text_file(const std::string& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *text = buffer.str();
  return true;
}

void write_text_atomically(const std::string& path, const std::string& text) {
  write_file_durably(path, text);  // DurableWriteError is a std::runtime_error
}

pid_t read_pid_file(const std::string& path) {
  std::string text;
  if (!read_text_file(path, &text)) return 0;
  try {
    size_t used = 0;
    const long pid = std::stol(text, &used);
    return pid > 0 ? static_cast<pid_t>(pid) : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

std::string read_shm_name(const RunDir& dir) {
  std::string text;
  if (!read_text_file(dir.shm_name_file(), &text)) return "";
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

// One role per line: "<role> <pid> <restarts> <state> <note...>".
std::map<std::string, RoleRecord> read_role_records(const RunDir& dir) {
  std::map<std::string, RoleRecord> records;
  std::string text;
  if (!read_text_file(dir.roles_file(), &text)) return records;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    RoleRecord r;
    long pid = 0;
    if (!(fields >> r.role >> pid >> r.restarts >> r.state)) continue;
    r.pid = static_cast<pid_t>(pid);
    std::getline(fields >> std::ws, r.note);
    records[r.role] = r;
  }
  return records;
}

void write_role_records(const RunDir& dir, const std::vector<RoleRecord>& records) {
  std::string text;
  for (const RoleRecord& r : records) {
    text += fmt::format("{} {} {} {} {}\n", r.role, r.pid, r.restarts, r.state, r.note);
  }
  write_text_atomically(dir.roles_file(), text);
}

uint64_t read_generation(const RunDir& dir) {
  std::string text;
  if (!read_text_file(dir.generation_file(), &text)) return 0;
  size_t end = text.size();
  while (end > 0 && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  const std::string digits = text.substr(0, end);
  const bool numeric = !digits.empty() && digits.size() <= 18 &&
                       digits.find_first_not_of("0123456789") == std::string::npos;
  const uint64_t value = numeric ? std::stoull(digits) : 0;
  if (value == 0) {
    std::string shown = digits.substr(0, 40);
    for (char& ch : shown)
      if (!std::isprint(static_cast<unsigned char>(ch))) ch = '?';
    throw UserError(
        "run file " + dir.generation_file() + " holds '" + shown +
        "', not a generation number; write the number of earlier starts of this run into it "
        "(e.g. 1), or delete it to count from 1 again");
  }
  return value;
}

std::string shell_quote(const std::string& text) {
  if (text.empty()) return "''";
  std::string out;
  for (char ch : text) {
    const bool safe = std::isalnum(static_cast<unsigned char>(ch)) ||
                      std::string("/._-+:,@%=").find(ch) != std::string::npos;
    if (!safe) out += '\\';
    out += ch;
  }
  return out;
}

}  // namespace rz::launch
