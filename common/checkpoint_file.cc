#include "common/checkpoint_file.h"

#include "common/durable_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace rz {
namespace {

constexpr char kMagic[8] = {'R', 'Z', 'C', 'K', 'P', 'T', '\0', '\1'};
constexpr const char* kPrefix = "ckpt-";
constexpr const char* kSuffix = ".rzck";

// Unsigned integers are stored little-endian, sizeof(T) bytes.
template <typename T>
void put_le(std::vector<uint8_t>* out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u32(std::vector<uint8_t>* out, uint32_t v) {
  put_le(out, v);
}
void put_u64(std::vector<uint8_t>* out, uint64_t v) {
  put_le(out, v);
}

std::string errno_text() {
  return std::strerror(errno);
}

// Bounds-checked cursor over the file bytes.
struct Reader {
  const std::vector<uint8_t>& bytes;
  size_t pos;
  size_t end;
  const std::string& path;
  void need(size_t n, const char* what) {
    if (n > end - pos)
      throw CheckpointError("checkpoint " + path + " is truncated (in " + what + ")");
  }
  template <typename T>
  T le(const char* what) {
    need(sizeof(T), what);
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(bytes[pos + i]) << (8 * i);
    pos += sizeof(T);
    return v;
  }
  uint32_t u32(const char* what) { return le<uint32_t>(what); }
  uint64_t u64(const char* what) { return le<uint64_t>(what); }
};

// Step number from "ckpt-<digits>.rzck", or false for any other name (incl. tmp files).
bool parse_name(const std::string& name, uint64_t* step) {
  size_t plen = std::strlen(kPrefix), slen = std::strlen(kSuffix);
  if (name.size() <= plen + slen) return false;
  if (name.compare(0, plen, kPrefix) != 0) return false;
  if (name.compare(name.size() - slen, slen, kSuffix) != 0) return false;
  std::string digits = name.substr(plen, name.size() - plen - slen);
  if (digits.empty() || digits.size() > 19) return false;
  for (char c : digits)
    if (c < '0' || c > '9') return false;
  *step = std::stoull(digits);
  return true;
}

std::string text_of(const std::vector<uint8_t>& b) {
  return std::string(b.begin(), b.end());
}

}  // namespace

std::vector<uint8_t> u64_bytes(uint64_t v) {
  std::vector<uint8_t> out;
  put_u64(&out, v);
  return out;
}

uint64_t bytes_u64(const std::vector<uint8_t>& b, const std::string& what) {
  if (b.size() != 8) throw CheckpointError("checkpoint section '" + what + "' is not 8 bytes");
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(b[i]) << (8 * i);
  return v;
}

void write_checkpoint_sections(const std::string& path, const CheckpointSections& sections) {
  std::vector<uint8_t> bytes(kMagic, kMagic + sizeof(kMagic));
  put_u32(&bytes, kCheckpointFormatVersion);
  put_u32(&bytes, static_cast<uint32_t>(sections.size()));
  for (const auto& [name, data] : sections) {
    put_u32(&bytes, static_cast<uint32_t>(name.size()));
    bytes.insert(bytes.end(), name.begin(), name.end());
    put_u64(&bytes, data.size());
    bytes.insert(bytes.end(), data.begin(), data.end());
  }
  put_u64(&bytes, fnv1a64(bytes.data(), bytes.size()));

  try {
    write_file_durably(path, bytes.data(), bytes.size());
  } catch (const DurableWriteError& e) {
    std::string message = e.what();  // "cannot write PATH: STEP failed: REASON"
    if (message.rfind("cannot write ", 0) == 0) message.insert(13, "checkpoint ");
    throw CheckpointError(message);
  }
}

std::map<std::string, std::vector<uint8_t>> read_checkpoint_sections(const std::string& path) {
  // Type and size before a byte is read: a FIFO named ckpt-*.rzck would block us forever, a
  // huge file would be read whole into memory. O_NONBLOCK: opening a FIFO does not wait.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw CheckpointError("cannot open checkpoint " + path + ": " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || uint64_t(st.st_size) > kMaxCheckpointBytes) {
    const bool regular = S_ISREG(st.st_mode);
    ::close(fd);
    throw CheckpointError(regular ? "checkpoint " + path + " is " + std::to_string(st.st_size) +
                                        " bytes, more than any checkpoint (" +
                                        std::to_string(kMaxCheckpointBytes) +
                                        "): move it out of the checkpoints folder"
                                  : "checkpoint " + path +
                                        " is not a regular file: move it out "
                                        "of the checkpoints folder");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      bytes.resize(done);  // shrunk while we read: judged as truncated below
      break;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (bytes.size() < sizeof(kMagic) + 8 + 8)
    throw CheckpointError("checkpoint " + path + " is truncated (" + std::to_string(bytes.size()) +
                          " bytes)");
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    throw CheckpointError("file " + path + " is not a ringzero checkpoint (bad magic)");
  // Checksum first: nothing inside is interpreted before the whole file is known intact.
  size_t body = bytes.size() - 8;
  Reader tail{bytes, body, bytes.size(), path};
  uint64_t stored = tail.u64("checksum");
  if (stored != fnv1a64(bytes.data(), body))
    throw CheckpointError("checkpoint " + path + " is corrupt (checksum mismatch)");

  Reader r{bytes, sizeof(kMagic), body, path};
  uint32_t version = r.u32("header");
  if (version != kCheckpointFormatVersion)
    throw CheckpointError("checkpoint " + path + " has format version " + std::to_string(version) +
                          ", this build reads version " + std::to_string(kCheckpointFormatVersion));
  uint32_t count = r.u32("header");
  std::map<std::string, std::vector<uint8_t>> sections;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t name_len = r.u32("section name");
    r.need(name_len, "section name");
    std::string name(bytes.begin() + r.pos, bytes.begin() + r.pos + name_len);
    r.pos += name_len;
    uint64_t len = r.u64("section length");
    r.need(len, "section data");
    sections[name].assign(bytes.begin() + r.pos, bytes.begin() + r.pos + len);
    r.pos += len;
  }
  if (r.pos != body)
    throw CheckpointError("checkpoint " + path + " is corrupt (trailing bytes after sections)");
  return sections;
}

CheckpointInfo read_checkpoint(const std::string& path) {
  auto sections = read_checkpoint_sections(path);
  auto get = [&](const char* name) -> const std::vector<uint8_t>& {
    auto it = sections.find(name);
    if (it == sections.end())
      throw CheckpointError("checkpoint " + path + " lacks section '" + name + "'");
    return it->second;
  };
  CheckpointInfo info;
  info.path = path;
  info.game_spec = text_of(get("game_spec"));
  info.net_shape = text_of(get("net_shape"));
  info.step = bytes_u64(get("step"), "step");
  info.weight_version = bytes_u64(get("weight_version"), "weight_version");
  info.weights = get("weights");
  info.config_text = text_of(get("config"));
  return info;
}

std::string checkpoint_dir(const std::string& run_dir) {
  return run_dir + "/checkpoints";
}

std::string checkpoint_path(const std::string& run_dir, uint64_t step) {
  char name[64];
  std::snprintf(name, sizeof(name), "%s%010llu%s", kPrefix, static_cast<unsigned long long>(step),
                kSuffix);
  return checkpoint_dir(run_dir) + "/" + name;
}

std::vector<std::string> list_checkpoints(const std::string& run_dir) {
  std::vector<std::pair<uint64_t, std::string>> found;
  std::string dir = checkpoint_dir(run_dir);
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      uint64_t step;
      if (parse_name(e->d_name, &step)) found.emplace_back(step, dir + "/" + e->d_name);
    }
    ::closedir(d);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (auto& f : found) paths.push_back(f.second);
  return paths;
}

std::string latest_valid_checkpoint(const std::string& run_dir) {
  auto paths = list_checkpoints(run_dir);
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
    try {
      read_checkpoint(*it);
      return *it;
    } catch (const CheckpointError& e) {
      std::fprintf(stderr, "warning: skipping checkpoint: %s\n", e.what());
    }
  }
  return "";
}

void prune_checkpoints(const std::string& run_dir, int keep) {
  auto paths = list_checkpoints(run_dir);
  for (size_t i = 0; i + static_cast<size_t>(std::max(keep, 1)) < paths.size(); ++i)
    ::unlink(paths[i].c_str());
  // Stray temporaries are left by a writer killed before its rename (only one learner at a
  // time holds the checkpoints: RUN/checkpoints/lock).
  std::string dir = checkpoint_dir(run_dir);
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> stray;
    while (dirent* e = ::readdir(d)) {
      if (is_durable_temporary(e->d_name, "", ::getpid())) stray.push_back(dir + "/" + e->d_name);
    }
    ::closedir(d);
    for (auto& s : stray) ::unlink(s.c_str());
  }
}

}  // namespace rz
